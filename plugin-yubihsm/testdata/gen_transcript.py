#!/usr/bin/env python3
"""Regenerates transcript.txt, a YubiHSM 2 session transcript computed independently of the Go code.

It uses only Python's hashlib and the `cryptography` package (AES, CMAC), following the YubiHSM 2
command documentation (CREATE_SESSION, AUTHENTICATE_SESSION, SESSION_MESSAGE): PBKDF2 password
derivation, SP 800-108 KDF with AES-CMAC, IV = AES-ECB(S-ENC, counter), ISO 9797-1 method 2
padding, C-MAC/R-MAC chaining. The first two frames equal the published handshake vector
(host challenge all zero, card challenge 054d5631c9186f80). Run: python3 gen_transcript.py > transcript.txt
"""
import hashlib
import struct

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def aes_cmac(key, data):
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def kdf(key, constant, context, bits=128):
    label = b"\0" * 11 + struct.pack("!BBHB", constant, 0, bits, 1)
    return aes_cmac(key, label + context)[: bits // 8]


def ecb(key, block):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def cbc(key, iv, data):
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def pad(m):
    m += b"\x80"
    return m + b"\0" * (-len(m) % 16)


def frame(cmd, data):
    return struct.pack("!BH", cmd, len(data)) + data


static = hashlib.pbkdf2_hmac("sha256", b"password", b"Yubico", 10000, 32)
kenc, kmac = static[:16], static[16:]
host = bytes(8)
card = bytes.fromhex("054d5631c9186f80")
ctx = host + card
senc, smac, srmac = kdf(kenc, 4, ctx), kdf(kmac, 6, ctx), kdf(kmac, 7, ctx)
sid = 0

lines = [
    ("password", b"password".hex()),
    ("k-enc", kenc.hex()),
    ("k-mac", kmac.hex()),
    ("host-challenge", host.hex()),
    ("card-challenge", card.hex()),
    ("s-enc", senc.hex()),
    ("s-mac", smac.hex()),
    ("s-rmac", srmac.hex()),
]

create = frame(0x03, struct.pack("!H", 1) + host)
created = frame(0x83, bytes([sid]) + card + kdf(smac, 0, ctx, 64))
auth = struct.pack("!BHB", 0x04, 17, sid) + kdf(smac, 1, ctx, 64)
chain = aes_cmac(smac, bytes(16) + auth)
auth += chain[:8]
lines += [("command", create.hex()), ("response", created.hex()),
          ("command", auth.hex()), ("response", frame(0x84, b"").hex())]

label = b"rfc4231".ljust(40, b"\0")
hmac_key = b"\x0b" * 20
inner = [
    # ECHO "abc"
    (frame(0x01, b"abc"), frame(0x81, b"abc")),
    # PUT_HMAC_KEY id 0x0010, label, domains 1, capabilities sign-hmac, hmac-sha256, RFC 4231 case 1 key
    (frame(0x52, struct.pack("!H40sHQB", 0x0010, label, 0x0001, 1 << 22, 20) + hmac_key),
     frame(0xD2, struct.pack("!H", 0x0010))),
    # SIGN_HMAC 0x0010 "Hi There" -> RFC 4231 case 1 tag
    (frame(0x53, struct.pack("!H", 0x0010) + b"Hi There"),
     frame(0xD3, bytes.fromhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"))),
    # GET_OBJECT_INFO 0x0099 hmac-key -> error object-not-found, inside the session
    (frame(0x4E, struct.pack("!HB", 0x0099, 5)), frame(0x7F, b"\x0b")),
    # CLOSE_SESSION
    (frame(0x40, b""), frame(0xC0, b"")),
]
for counter, (cmd, rsp) in enumerate(inner, start=1):
    iv = ecb(senc, counter.to_bytes(16, "big"))
    ct = cbc(senc, iv, pad(cmd))
    out = struct.pack("!BHB", 0x05, 1 + len(ct) + 8, sid) + ct
    chain = aes_cmac(smac, chain + out)
    out += chain[:8]
    rct = cbc(senc, iv, pad(rsp))
    back = struct.pack("!BHB", 0x85, 1 + len(rct) + 8, sid) + rct
    back += aes_cmac(srmac, chain + back)[:8]
    lines += [("inner-command", cmd.hex()), ("command", out.hex()),
              ("inner-response", rsp.hex()), ("response", back.hex())]

for name, value in lines:
    print(name, value)
