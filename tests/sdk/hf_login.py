"""huggingface_hub's own token code, as the other process sharing an `hf auth login`
with hfclaw (run by tests/tests/hf_login.rs).

Usage: python hf_login.py get_token
       python hf_login.py hold_lock SECONDS
The environment points huggingface_hub at the sandbox: HF_HOME (token, stored_tokens)
and HF_ENDPOINT (the fake Hub's /oauth/token).
"""

import sys
import time


def get_token():
    # What every Hub call of huggingface_hub does first: refresh a due OAuth token.
    from huggingface_hub import get_token

    print(get_token() or "", flush=True)


def hold_lock(seconds):
    # The lock huggingface_hub takes around a refresh, held by hand.
    from huggingface_hub import constants
    from huggingface_hub.utils._fixes import WeakFileLock

    with WeakFileLock(constants.HF_STORED_TOKENS_PATH + ".lock", timeout=30):
        print("locked", flush=True)
        time.sleep(float(seconds))
    print("released", flush=True)


if __name__ == "__main__":
    case, args = sys.argv[1], sys.argv[2:]
    {"get_token": get_token, "hold_lock": hold_lock}[case](*args)
