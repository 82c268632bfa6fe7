#!/usr/bin/env python3
"""Write tests/unit/jwt_vectors.h: JWS tokens made independently of common/core/jwt.c, with
Python's standard library alone (hmac, hashlib, base64, json), for tests/unit/test_jwt.c.

Run by hand when a vector is added, then format the output as the rest of the tree:
  python3 tests/unit/gen_jwt_vectors.py > tests/unit/jwt_vectors.h && make format
The build and the tests never run it: the output is committed."""
import base64
import hashlib
import hmac
import json

KEY = b"tenant-jwt-secret-for-unit-tests-0123456789"
OTHER_KEY = b"another-secret-the-platform-never-had-0000"
T = 1767225600  # 2026-01-01T00:00:00Z: the tests' "now" is around it


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(header, payload, key=KEY, digest=hashlib.sha256, sig=None):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    p = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    signing_input = (b64url(h) + "." + b64url(p)).encode()
    if sig is None:
        sig = b64url(hmac.new(key, signing_input, digest).digest())
    return signing_input.decode() + "." + sig


HS = {"alg": "HS256", "typ": "JWT"}
CLAIMS = {"sub": "shop-42", "iat": T, "exp": T + 3600}

# (name, token, expected code or "" for valid, comment); the audience configured is "alerts"
# for the tokens whose name says aud, none for the others.
vectors = [
    ("valid", token(HS, CLAIMS), "", "the usual token"),
    ("valid_aud_array_nbf", token(HS, {"sub": "shop-42", "aud": ["other", "alerts"], "nbf": T - 10, "iat": T - 10, "exp": T + 60}), "", "aud as an array holding ours, nbf in the past"),
    ("valid_no_typ_kid", token({"kid": "k1", "alg": "HS256"}, {"exp": T + 60, "sub": "shop-42", "jti": "x", "custom": {"a": [1, 2]}}), "", "no typ, a kid (ignored), unknown claims (ignored)"),
    ("valid_unicode_sub", token(HS, {"sub": "boutique-\u00f1-\u6771\u4eac", "exp": T + 60}), "", "a UTF-8 sub"),
    ("valid_fractional_exp", token(HS, {"sub": "shop-42", "exp": T + 60.75}), "", "a NumericDate with a fraction"),
    ("hs384", token({"alg": "HS384", "typ": "JWT"}, CLAIMS, digest=hashlib.sha384), "bad_alg", "a genuine HS384 token with our key"),
    ("hs512", token({"alg": "HS512"}, CLAIMS, digest=hashlib.sha512), "bad_alg", "a genuine HS512 token"),
    ("none", token({"alg": "none", "typ": "JWT"}, CLAIMS, sig=""), "bad_alg", "alg none, empty signature"),
    ("none_with_mac", token({"alg": "none"}, CLAIMS), "bad_alg", "alg none, yet a valid HS256 MAC"),
    ("rs256_confusion", token({"alg": "RS256", "typ": "JWT"}, CLAIMS), "bad_alg", "RS256 header, HMAC keyed with our secret (key confusion)"),
    ("alg_lowercase", token({"alg": "hs256"}, CLAIMS), "bad_alg", "hs256 in lower case"),
    ("alg_missing", token({"typ": "JWT"}, CLAIMS), "bad_alg", "no alg"),
    ("alg_array", token({"alg": ["HS256"]}, CLAIMS), "bad_alg", "alg not a string"),
    ("alg_duplicate", token(b'{"alg":"none","alg":"HS256"}', json.dumps(CLAIMS).encode()), "malformed", "alg twice"),
    ("crit", token({"alg": "HS256", "crit": ["exp"], "exp": 1}, CLAIMS), "malformed", "an extension we do not understand"),
    ("b64_false_crit", token({"alg": "HS256", "b64": False, "crit": ["b64"]}, CLAIMS), "malformed", "RFC 7797 unencoded payload"),
    ("typ_other", token({"alg": "HS256", "typ": "at+jwt"}, CLAIMS), "malformed", "another token type"),
    ("wrong_key", token(HS, CLAIMS, key=OTHER_KEY), "bad_signature", "re-signed with another secret"),
    ("sub_number", token(HS, {"sub": 42, "exp": T + 60}), "malformed", "sub not a string"),
    ("sub_empty", token(HS, {"sub": "", "exp": T + 60}), "malformed", "sub empty"),
    ("sub_control", token(HS, {"sub": "shop\n42", "exp": T + 60}), "malformed", "a line break in sub"),
    ("sub_too_long", token(HS, {"sub": "s" * 256, "exp": T + 60}), "malformed", "sub of 256 bytes"),
    ("exp_string", token(HS, {"sub": "shop-42", "exp": str(T + 60)}), "malformed", "exp as a string"),
    ("exp_negative", token(HS, {"sub": "shop-42", "exp": -1}), "malformed", "exp before 1970"),
    ("exp_huge", token(HS, {"sub": "shop-42", "exp": 10**30}), "malformed", "exp past year 9999"),
    ("exp_missing", token(HS, {"sub": "shop-42", "iat": T}), "missing_claim", "no exp"),
    ("sub_missing", token(HS, {"exp": T + 60}), "missing_claim", "no sub"),
    ("payload_array", token(HS, b'["sub","exp"]'), "malformed", "a payload that is not an object"),
    ("payload_duplicate_sub", token(HS, b'{"sub":"shop-1","exp":1767229200,"sub":"shop-2"}'), "malformed", "sub twice"),
    ("payload_not_json", token(HS, b"sub=shop-42"), "malformed", "a payload that is not JSON"),
    ("aud_number", token(HS, {"sub": "shop-42", "exp": T + 60, "aud": 7}), "malformed", "aud not a string"),
    ("aud_other", token(HS, {"sub": "shop-42", "exp": T + 60, "aud": "billing"}), "bad_audience", "another audience"),
    ("aud_empty_array", token(HS, {"sub": "shop-42", "exp": T + 60, "aud": []}), "bad_audience", "an empty audience list"),
]


def c_string(s):
    out = []
    for ch in s.encode():
        if ch in (0x22, 0x5C):
            out.append("\\" + chr(ch))
        elif 0x20 <= ch < 0x7F:
            out.append(chr(ch))
        else:
            out.append("\\x%02x" % ch)
    return '"' + "".join(out) + '"'


print("/* Generated by tests/unit/gen_jwt_vectors.py (Python's hmac, hashlib, base64 and json):")
print(" * tokens made independently of common/core/jwt.c. Do not edit; run the script. */")
print("#define JV_KEY " + c_string(KEY.decode()))
print("#define JV_OTHER_KEY " + c_string(OTHER_KEY.decode()))
print("#define JV_NOW %dLL" % T)
print("#define JV_AUDIENCE \"alerts\"")
print("static const struct {\n\tconst char *name, *token, *code, *why, *audience;\n} jwt_vectors[] = {")
for name, tok, code, why in vectors:
    aud = "alerts" if "aud" in name else ""
    print("    {%s,\n     %s,\n     %s, %s, %s}," % (c_string(name), c_string(tok), c_string(code), c_string(why), c_string(aud)))
print("};")
print("#define JV_VALID_TOKEN " + c_string(vectors[0][1]))
