#pragma once
// Logging: one JSON object per line on stdout: {"ts":"…","level":"info","msg":"…", fields…}.
// Rule: never pass a password, token, key or PFX secret as a field or inside msg; callers log names
// (a key's name, a user's id), never the secret itself. Thread-safe; each line is written whole.
#include <boost/json/value.hpp>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace webstream::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  Field(std::string_view k, boost::json::value v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(boost::json::string_view(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(boost::json::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(boost::json::string_view(v)) {}
  Field(std::string_view k, int v) : key(k), value(v) {}
  Field(std::string_view k, long v) : key(k), value(v) {}
  Field(std::string_view k, long long v) : key(k), value(v) {}
  Field(std::string_view k, unsigned v) : key(k), value(v) {}
  Field(std::string_view k, unsigned long v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  boost::json::value value;
};

void set_min_level(Level level);
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kDebug, msg, f); }
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kInfo, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kWarn, msg, f); }
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kError, msg, f); }

}  // namespace webstream::log
