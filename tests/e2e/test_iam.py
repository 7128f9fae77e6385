"""End to end: the IAM resources (CONTRACT §6) on the real gateway — every endpoint's success and error
answers, the roles, cross-org access (IDOR) on every resource type, revocation on disable and password
change, and durability of an acknowledged create across kill -9."""
import signal
import threading
import time
import unittest
import uuid

from harness import Gateway, http_request, json_request, login, wait_until, port_accepts

RESOURCES = ("orgs", "users", "groups", "apps", "workspaces", "policies", "entitlements")


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


class IamBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway()
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def call(self, method, path, body=None, token=None):
        return json_request(self.gw.port, method, path, body=body, token=token or self.gw.admin_token())

    def create(self, path, body, token=None):
        status, data, r = self.call("POST", path, body, token)
        self.assertEqual(status, 201, "POST %s %s → %d %s" % (path, body, status, r.text[:300]))
        return data

    def assert_error(self, answer, status, code, field=None):
        got, data, r = answer
        self.assertEqual(got, status, r.text[:300])
        self.assertEqual(data["error"]["code"], code, r.text[:300])
        if field:
            self.assertIn(field, data["error"]["message"])

    def org_with_admin(self):
        """A new org, an org-admin in it (with a token) and a plain user in it (with a token)."""
        org = self.create("/iam/orgs", {"name": unique("org")})
        password = "Org-admin-Pa55"
        boss = self.create("/iam/users", {"username": unique("boss"), "password": password, "roles": ["org-admin"],
                                          "orgId": org["id"]})
        boss["token"] = login(self.gw.port, boss["username"], password)
        user = self.create("/iam/users", {"username": unique("user"), "password": password, "orgId": org["id"]})
        user["token"] = login(self.gw.port, user["username"], password)
        user["password"] = password
        return org, boss, user

    def catalog(self, token):
        """One of each object kind in the token's org."""
        app = self.create("/iam/apps", {"name": unique("app"), "exe": "notepad.exe", "args": "/A"}, token)
        ws = self.create("/iam/workspaces", {"name": unique("ws"), "type": "app", "apps": [app["id"]]}, token)
        pol = self.create("/iam/policies", {"name": unique("pol"), "document": {"maxConcurrentSessions": 2}}, token)
        grp = self.create("/iam/groups", {"name": unique("grp")}, token)
        return {"apps": app, "workspaces": ws, "policies": pol, "groups": grp}


class Endpoints(IamBase):
    def test_every_route_needs_a_token(self):
        for path in ["/iam/" + r for r in RESOURCES] + ["/iam/roles", "/iam/audit", "/iam/me/entitlements"]:
            status, data, _ = json_request(self.gw.port, "GET", path)
            self.assertEqual(status, 401, path)
            self.assertEqual(data["error"]["code"], "unauthorized", path)

    def test_roles(self):
        status, data, _ = self.call("GET", "/iam/roles")
        self.assertEqual(status, 200)
        self.assertEqual([r["id"] for r in data["items"]], ["admin", "org-admin", "user"])
        for r in data["items"]:
            self.assertEqual(set(r), {"id", "name", "description"})
        self.assertEqual(self.call("POST", "/iam/roles", {"name": "x"})[0], 405)

    def test_crud_of_each_resource(self):
        org, boss, _ = self.org_with_admin()
        token = boss["token"]
        objects = self.catalog(token)
        changes = {"apps": {"args": "/B"}, "workspaces": {"requiredTags": ["gpu"]},
                   "policies": {"document": {"audio": True}}, "groups": {"name": unique("renamed")}}
        for kind, obj in objects.items():
            self.assertEqual(obj["orgId"], org["id"], kind)
            status, got, _ = self.call("GET", "/iam/%s/%s" % (kind, obj["id"]), token=token)
            self.assertEqual((status, got["id"]), (200, obj["id"]), kind)
            status, patched, r = self.call("PATCH", "/iam/%s/%s" % (kind, obj["id"]), changes[kind], token=token)
            self.assertEqual(status, 200, r.text)
            for k, v in changes[kind].items():
                self.assertEqual(patched[k], v, kind)
            status, page, _ = self.call("GET", "/iam/%s?limit=1&offset=0" % kind, token=token)
            self.assertEqual(status, 200, kind)
            self.assertEqual((page["limit"], page["offset"], len(page["items"])), (1, 0, 1), kind)
            self.assertGreaterEqual(page["total"], 1, kind)
        ent = self.create("/iam/entitlements", {"subjectType": "group", "subjectId": objects["groups"]["id"],
                                                "workspaceId": objects["workspaces"]["id"],
                                                "policyId": objects["policies"]["id"]}, token)
        self.assertEqual(ent["appIds"], [])
        # In use: the app (listed by the workspace) and the policy (named by the entitlement).
        self.assert_error(self.call("DELETE", "/iam/apps/" + objects["apps"]["id"], token=token), 409, "conflict")
        self.assert_error(self.call("DELETE", "/iam/policies/" + objects["policies"]["id"], token=token), 409, "conflict")
        self.assertEqual(self.call("DELETE", "/iam/entitlements/" + ent["id"], token=token)[0], 204)
        for kind in ("workspaces", "apps", "policies", "groups"):
            self.assertEqual(self.call("DELETE", "/iam/%s/%s" % (kind, objects[kind]["id"]), token=token)[0], 204, kind)
            self.assert_error(self.call("GET", "/iam/%s/%s" % (kind, objects[kind]["id"]), token=token), 404, "not_found")

    def test_validation_names_the_field_and_duplicates_conflict(self):
        cases = [
            ("/iam/orgs", {}, "name"),
            ("/iam/users", {"username": unique("u")}, "password"),
            ("/iam/users", {"username": unique("u"), "password": "short"}, "password"),
            ("/iam/users", {"username": unique("u"), "password": "Long-enough-1", "roles": ["root"]}, "roles"),
            ("/iam/apps", {"name": "x"}, "exe"),
            ("/iam/apps", {"name": "x", "exe": "a\r\nX-User-ID: admin"}, "exe"),
            ("/iam/workspaces", {"name": "x", "type": "vm"}, "type"),
            ("/iam/workspaces", {"name": "x", "apps": ["no-such-app"]}, "apps"),
            ("/iam/policies", {"name": "x", "document": {"maxConcurrentSessions": "two"}}, "maxConcurrentSessions"),
            ("/iam/entitlements", {"subjectType": "team", "subjectId": "x", "workspaceId": "y"}, "subjectType"),
            ("/iam/groups", {"name": "a\u0007b"}, "name"),
        ]
        for path, body, field in cases:
            self.assert_error(self.call("POST", path, body), 400, "invalid_request", field)
        r = http_request(self.gw.port, "POST", "/iam/groups", body=b"not json",
                         headers={"Authorization": "Bearer " + self.gw.admin_token(),
                                  "Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"]["code"], "invalid_request")
        name = unique("dup")
        self.create("/iam/groups", {"name": name})
        self.assert_error(self.call("POST", "/iam/groups", {"name": name}), 409, "conflict")
        self.assert_error(self.call("POST", "/iam/users", {"username": "ADMIN", "password": "Long-enough-1"}),
                          409, "conflict")
        self.assert_error(self.call("GET", "/iam/groups?limit=0"), 400, "invalid_request", "limit")

    def test_members(self):
        org, boss, user = self.org_with_admin()
        grp = self.create("/iam/groups", {"name": unique("grp")}, boss["token"])
        path = "/iam/groups/%s/members" % grp["id"]
        added = self.create(path, {"userId": user["id"]}, boss["token"])
        self.assertEqual(added["userId"], user["id"])
        self.assert_error(self.call("POST", path, {"userId": user["id"]}, boss["token"]), 409, "conflict")
        self.assert_error(self.call("POST", path, {"userId": "nobody"}, boss["token"]), 400, "invalid_request", "userId")
        status, page, _ = self.call("GET", path, token=boss["token"])
        self.assertEqual((status, page["total"], page["items"][0]["userId"]), (200, 1, user["id"]))
        self.assertEqual(self.call("DELETE", path + "/" + user["id"], token=boss["token"])[0], 204)
        self.assert_error(self.call("DELETE", path + "/" + user["id"], token=boss["token"]), 404, "not_found")

    def test_my_entitlements_with_the_effective_policy(self):
        org, boss, user = self.org_with_admin()
        objects = self.catalog(boss["token"])
        self.create("/iam/entitlements", {"subjectType": "org", "subjectId": org["id"],
                                          "workspaceId": objects["workspaces"]["id"]}, boss["token"])
        status, mine, _ = self.call("GET", "/iam/me/entitlements", token=user["token"])
        self.assertEqual(status, 200)
        self.assertEqual(len(mine["items"]), 1)
        item = mine["items"][0]
        self.assertEqual(item["workspace"]["id"], objects["workspaces"]["id"])
        self.assertEqual([a["id"] for a in item["apps"]], [objects["apps"]["id"]])
        self.assertEqual(item["policy"], {"maxConcurrentSessions": 1})
        self.create("/iam/entitlements", {"subjectType": "user", "subjectId": user["id"],
                                          "workspaceId": objects["workspaces"]["id"],
                                          "policyId": objects["policies"]["id"]}, boss["token"])
        _, mine, _ = self.call("GET", "/iam/me/entitlements", token=user["token"])
        self.assertEqual(mine["items"][0]["policy"]["maxConcurrentSessions"], 2)

    def test_audit(self):
        org, boss, _ = self.org_with_admin()
        grp = self.create("/iam/groups", {"name": unique("audited")}, boss["token"])
        status, page, _ = self.call("GET", "/iam/audit?limit=5", token=boss["token"])
        self.assertEqual(status, 200)
        entry = page["items"][0]
        for field in ("id", "at", "actor", "action", "objectType", "objectId", "orgId"):
            self.assertIn(field, entry)
        self.assertEqual((entry["action"], entry["objectType"], entry["objectId"], entry["orgId"], entry["actor"]),
                         ("create", "group", grp["id"], org["id"], boss["id"]))
        self.assertTrue(all(e["orgId"] == org["id"] for e in page["items"]))


class Roles(IamBase):
    def test_a_user_sees_and_changes_only_itself(self):
        org, boss, user = self.org_with_admin()
        t = user["token"]
        self.assertEqual(self.call("GET", "/iam/users/" + user["id"], token=t)[0], 200)
        self.assertEqual(self.call("GET", "/iam/users/" + boss["id"], token=t)[0], 403)
        self.assertEqual(self.call("GET", "/iam/users", token=t)[0], 403)
        self.assertEqual(self.call("POST", "/iam/apps", {"name": "x", "exe": "x"}, t)[0], 403)
        self.assertEqual(self.call("PATCH", "/iam/users/" + user["id"], {"roles": ["admin"]}, t)[0], 403)
        self.assertEqual(self.call("PATCH", "/iam/users/" + user["id"], {"displayName": "Me"}, t)[0], 200)
        self.assertEqual(self.call("GET", "/iam/audit", token=t)[0], 403)

    def test_an_org_admin_cannot_reach_admins_or_other_orgs(self):
        org, boss, _ = self.org_with_admin()
        t = boss["token"]
        self.assertEqual(self.call("POST", "/iam/users", {"username": unique("a"), "password": "Long-enough-1",
                                                          "roles": ["admin"]}, t)[0], 403)
        self.assertEqual(self.call("POST", "/iam/orgs", {"name": unique("o")}, t)[0], 403)
        self.assertEqual(self.call("POST", "/iam/groups", {"name": "x", "orgId": "default"}, t)[0], 403)
        status, me, _ = json_request(self.gw.port, "GET", "/iam/auth/me", token=self.gw.admin_token())
        self.assert_error(self.call("PUT", "/iam/users/%s/password" % me["id"], {"password": "Taken-over-1"}, t),
                          404, "not_found")  # the admin is in another org: invisible

    def test_disable_ends_tokens_at_once_and_password_change_too(self):
        org, boss, user = self.org_with_admin()
        self.assertEqual(self.call("GET", "/iam/users/" + user["id"], token=user["token"])[0], 200)
        status, _, r = self.call("PUT", "/iam/users/%s/password" % user["id"], {"password": "Brand-new-Pa55"},
                                 user["token"])
        self.assertEqual(status, 204, r.text)
        self.assertEqual(self.call("GET", "/iam/users/" + user["id"], token=user["token"])[0], 401)
        fresh = login(self.gw.port, user["username"], "Brand-new-Pa55")
        self.assertEqual(self.call("GET", "/iam/users/" + user["id"], token=fresh)[0], 200)
        status, data, _ = self.call("PATCH", "/iam/users/" + user["id"], {"disabled": True}, boss["token"])
        self.assertEqual((status, data["disabled"]), (200, True))
        self.assertEqual(self.call("GET", "/iam/me/entitlements", token=fresh)[0], 401)
        r = http_request(self.gw.port, "POST", "/iam/auth/login",
                         body={"username": user["username"], "password": "Brand-new-Pa55"})
        self.assertEqual(r.status, 401)

    def test_a_password_change_never_undoes_a_disable_made_while_it_hashes(self):
        # The password change hashes for about 0.25 s between reading the user and writing it; an administrator's
        # disable sent meanwhile must survive it, whichever lands first.
        org, boss, user = self.org_with_admin()
        put = {}

        def change_password():
            put["answer"] = self.call("PUT", "/iam/users/%s/password" % user["id"], {"password": "Raced-new-Pa55"},
                                      user["token"])

        worker = threading.Thread(target=change_password)
        started = time.monotonic()
        worker.start()
        time.sleep(0.05)  # let the PUT be authenticated and start hashing
        status, data, r = self.call("PATCH", "/iam/users/" + user["id"], {"disabled": True}, boss["token"])
        self.assertEqual((status, data["disabled"]), (200, True), r.text)
        worker.join(30)
        took = time.monotonic() - started
        self.assertIn(put["answer"][0], (204, 401), put["answer"][2].text)  # 401: the disable came first
        status, data, r = self.call("GET", "/iam/users/" + user["id"])
        self.assertEqual((status, data["disabled"]), (200, True), "the disable was undone (PUT took %.2f s)" % took)
        r = http_request(self.gw.port, "POST", "/iam/auth/login",
                         body={"username": user["username"], "password": "Raced-new-Pa55"})
        self.assertEqual(r.status, 401)


class CrossOrg(IamBase):
    def test_another_orgs_objects_are_not_found_for_every_resource_type(self):
        org_a, boss_a, user_a = self.org_with_admin()
        org_b, boss_b, _ = self.org_with_admin()
        objects = self.catalog(boss_a["token"])
        objects["entitlements"] = self.create("/iam/entitlements", {
            "subjectType": "org", "subjectId": org_a["id"], "workspaceId": objects["workspaces"]["id"]},
            boss_a["token"])
        objects["users"] = user_a
        objects["orgs"] = org_a
        for kind, obj in objects.items():
            for method in ("GET", "PATCH", "DELETE"):
                status, data, r = self.call(method, "/iam/%s/%s" % (kind, obj["id"]), {"name": "pwned"},
                                            boss_b["token"])
                self.assertEqual(status, 404, "%s %s: %s" % (method, kind, r.text))
                self.assertEqual(data["error"]["code"], "not_found")
                self.assertNotIn(obj["id"], r.text)
                if "name" in obj:
                    self.assertNotIn(obj["name"], r.text)
        grp = objects["groups"]["id"]
        for method, path in (("GET", "/iam/groups/%s/members" % grp), ("POST", "/iam/groups/%s/members" % grp),
                             ("DELETE", "/iam/groups/%s/members/%s" % (grp, user_a["id"])),
                             ("PUT", "/iam/users/%s/password" % user_a["id"])):
            self.assertEqual(self.call(method, path, {"userId": user_a["id"], "password": "Pwned-pwned-1"},
                                       boss_b["token"])[0], 404, path)
        for kind in RESOURCES + ("audit",):
            status, page, r = self.call("GET", "/iam/" + kind, token=boss_b["token"])
            self.assertEqual(status, 200, kind)
            self.assertNotIn(org_a["id"], r.text, kind)
        # Still there, unchanged, for their owner.
        status, app, _ = self.call("GET", "/iam/apps/" + objects["apps"]["id"], token=boss_a["token"])
        self.assertEqual((status, app["name"]), (200, objects["apps"]["name"]))


class Durability(unittest.TestCase):
    def test_a_created_object_survives_kill_9(self):
        gw = Gateway()
        try:
            gw.start()
            token = gw.admin_token()
            status, app, r = json_request(gw.port, "POST", "/iam/apps",
                                          body={"name": unique("durable"), "exe": "d.exe"}, token=token)
            self.assertEqual(status, 201, r.text)
            gw.process.proc.send_signal(signal.SIGKILL)
            gw.process.proc.wait(10)
            wait_until(lambda: not port_accepts(gw.port), timeout=5, message="killed gateway port to close")
            gw.start()
            status, got, _ = json_request(gw.port, "GET", "/iam/apps/" + app["id"], token=gw.admin_token())
            self.assertEqual((status, got["name"]), (200, app["name"]))
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
