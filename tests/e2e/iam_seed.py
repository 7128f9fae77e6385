"""Seeding the IAM through its REST API for end-to-end tests (standard library only)."""
import itertools

from harness import json_request, login

_counter = itertools.count(1)


class Seed:
    """Creates apps, workspaces, users and entitlements as the admin of a running gateway."""

    def __init__(self, gateway):
        self.gw = gateway
        self.port = gateway.port

    def admin(self):
        return self.gw.admin_token()

    def post(self, path, body, token=None):
        status, data, r = json_request(self.port, "POST", path, body=body, token=token or self.admin())
        if status not in (200, 201):
            raise AssertionError("POST %s answered %d: %s" % (path, status, r.text[:300]))
        return data

    def app(self, name=None, exe="notepad.exe", args="/A"):
        return self.post("/iam/apps", {"name": name or "app-%d" % next(_counter), "exe": exe, "args": args})

    def policy(self, document, name=None):
        return self.post("/iam/policies", {"name": name or "policy-%d" % next(_counter), "document": document})

    def workspace(self, apps, type_="desktop", name=None, tags=None, capabilities=None):
        body = {"name": name or "ws-%d" % next(_counter), "type": type_, "apps": [a["id"] for a in apps]}
        if tags:
            body["requiredTags"] = tags
        if capabilities:
            body["requiredCapabilities"] = capabilities
        return self.post("/iam/workspaces", body)

    def user(self, username=None, password="User-Pa55word!", roles=("user",), org_id=None):
        body = {"username": username or "user%d" % next(_counter), "password": password, "roles": list(roles)}
        if org_id:
            body["orgId"] = org_id
        created = self.post("/iam/users", body)
        created["password"] = password
        return created

    def entitle(self, subject, workspace, app_ids=(), policy=None, subject_type="user"):
        body = {"subjectType": subject_type, "subjectId": subject["id"], "workspaceId": workspace["id"],
                "appIds": list(app_ids)}
        if policy:
            body["policyId"] = policy["id"]
        return self.post("/iam/entitlements", body)

    def token(self, user):
        return login(self.port, user["username"], user["password"])

    def entitled_user(self, workspace, policy=None, **kwargs):
        """A new user entitled to `workspace`, with a fresh token in user['token']."""
        u = self.user(**kwargs)
        self.entitle(u, workspace, policy=policy)
        u["token"] = self.token(u)
        return u
