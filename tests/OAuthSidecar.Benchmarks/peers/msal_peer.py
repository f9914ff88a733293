"""The MSAL peer of the end-to-end benchmark: msal.oauth2cli (Debian's python3-msal) signs in against the same
provider. It listens with MSAL's AuthCodeReceiver, prints its authorization URL as one JSON line, and after the
harness has delivered the redirect, prints how long it took from the moment the redirect was sent (given on stdin as
a Unix time in seconds) to having the token."""
import json
import sys
import time

from msal.oauth2cli.authcode import AuthCodeReceiver
from msal.oauth2cli.oidc import Client

issuer = sys.argv[1]
conf = json.loads(sys.argv[2])
client = Client(conf, "native-app")
with AuthCodeReceiver(port=0) as receiver:
    flow = client.initiate_auth_code_flow(
        scope=["openid", "offline_access", "profile"],
        redirect_uri="http://127.0.0.1:%d/callback" % receiver.get_port(),
    )
    print(json.dumps({"authUri": flow["auth_uri"]}), flush=True)
    result = receiver.get_auth_response(timeout=60, state=flow["state"])
    tokens = client.obtain_token_by_auth_code_flow(flow, result)
    done = time.time()
    sent = float(sys.stdin.readline())
    print(json.dumps({"ok": "access_token" in tokens, "seconds": done - sent}), flush=True)
