"""docs/examples/app.config.xml, the annotated full configuration, against the binary and the reference:

- `webstream config check` accepts it (with a real PFX and its secrets in the environment) and finds no
  unknown setting in it, and prints none of its secrets;
- it names every setting of the table in docs/configuration.md, and where the table gives a default value the
  example writes that value, so an operator who copies it starts from the documented defaults.
"""
import os
import re
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET

import harness
from harness import REPO_ROOT, config_check
from test_tls import SECRET, make_pfx

EXAMPLE = os.path.join(REPO_ROOT, "docs", "examples", "app.config.xml")
REFERENCE = os.path.join(REPO_ROOT, "docs", "configuration.md")
SECRETS = {
    "WEBSTREAM_PFX_SECRET": SECRET,
    "WEBSTREAM_BACKEND_KEY_A": "Example-Backend-Key-A-0001",
    "WEBSTREAM_BACKEND_KEY_B": "Example-Backend-Key-B-0002",
    "WEBSTREAM_SERVICE_KEY": "Example-Service-Key-0003",
    "WEBSTREAM_MCP_KEY": "Example-Mcp-Key-0004",
}
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([^|]*?)\s*\|")


def reference_rows():
    """[(setting, default)] from the reference table."""
    rows = []
    with open(REFERENCE, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line)
            if m and "." in m.group(1):
                rows.append((m.group(1), m.group(2)))
    return rows


def lookup(root, setting):
    """The value of a dotted setting in the example: an attribute or a child element's text; None if absent.
    A list setting `a.b/add@x,@y` gives the first <add> element's attributes."""
    path, _, list_part = setting.partition("/")
    parts = path.split(".")
    if list_part:
        element = root.find("/".join(parts))
        if element is None:
            return None
        item = element.find(list_part.split("@")[0])
        return None if item is None else item.attrib
    element = root.find("/".join(parts[:-1])) if len(parts) > 1 else root
    if element is None:
        return None
    if parts[-1] in element.attrib:
        return element.attrib[parts[-1]]
    child = element.find(parts[-1])
    return None if child is None else (child.text or "")


class ExampleConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="webstream-e2e-example-config-")

    def tearDown(self):
        if not harness.keep_temp():
            shutil.rmtree(self.dir, ignore_errors=True)

    def test_config_check_accepts_the_example_without_unknown_settings_or_leaked_secrets(self):
        shutil.copy(EXAMPLE, os.path.join(self.dir, "app.config.xml"))
        shutil.copy(make_pfx(self.dir, "pfx", "example"), os.path.join(self.dir, "gateway.pfx"))
        code, out, err = config_check(os.path.join(self.dir, "app.config.xml"), env=SECRETS)
        self.assertEqual(code, 0, out + err)
        self.assertIn("OK", out)
        self.assertNotIn("unknown setting", out + err)
        for value in SECRETS.values():
            self.assertNotIn(value, out + err)

    def test_config_check_would_catch_a_misspelt_setting_in_it(self):
        with open(EXAMPLE, encoding="utf-8") as f:
            text = f.read().replace('<logging level="info" />', '<logging level="info" levle="debug" />')
        with open(os.path.join(self.dir, "app.config.xml"), "w", encoding="utf-8") as f:
            f.write(text)
        shutil.copy(make_pfx(self.dir, "pfx", "example"), os.path.join(self.dir, "gateway.pfx"))
        code, out, err = config_check(os.path.join(self.dir, "app.config.xml"), env=SECRETS)
        self.assertIn("unknown setting configuration.logging.levle", out + err)

    def test_the_example_names_every_setting_of_the_reference_with_its_default(self):
        root = ET.parse(EXAMPLE).getroot()
        rows = reference_rows()
        self.assertGreaterEqual(len(rows), 40, "the reference table was not read")
        for setting, default in rows:
            with self.subTest(setting=setting):
                value = lookup(root, setting)
                self.assertIsNotNone(value, "%s is in docs/configuration.md but not in the example" % setting)
                if "/" in setting:
                    for attribute in re.findall(r"@(\w+)", setting):
                        self.assertIn(attribute, value)
                    continue
                if default in ('""', "none") or value.startswith("env:"):
                    continue  # no value to compare, or a secret the example takes from the environment
                if setting == "webstreamSettings.serverPfxCertificateFile":
                    continue  # the example configures HTTPS on purpose
                same_as = re.fullmatch(r"`(\w+)`", default)
                if same_as:  # the default is a sibling setting's value (gateway.internalIP: `publicIP`)
                    sibling = setting.rsplit(".", 1)[0] + "." + same_as.group(1)
                    self.assertEqual(value, lookup(root, sibling), "%s: the example writes %r, not %s's value"
                                     % (setting, value, sibling))
                    continue
                self.assertEqual(value.lower(), default.lower(),
                                 "%s: the example writes %r, the reference's default is %r" % (setting, value, default))


if __name__ == "__main__":
    unittest.main()
