#pragma once
// The IamParts of a gateway whose IAM is another process: accessManagement.mode=standalone|external, the
// service being `webstream -am` at accessManagement.url (docs/access-management.md).
#include <memory>

#include "app/iam_parts.hpp"

namespace webstream::app {

// Error (exit 2, naming the setting): no accessManagement.serviceKey, an unusable accessManagement.url, or a
// store failure (the gateway's own assertion keys).
Result<std::unique_ptr<IamParts>> build_remote_iam_parts(WiringContext& ctx);

}  // namespace webstream::app
