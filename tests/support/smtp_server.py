#!/usr/bin/python3
"""A real SMTP server on loopback for Tollgate's tests (Debian's python3-aiosmtpd).

Usage: smtp_server.py OUT_DIR CERT KEY USER PASSWORD
       smtp_server.py --plain OUT_DIR

Offers STARTTLS with CERT/KEY, requires it before AUTH, and requires AUTH
(PLAIN or LOGIN) with USER/PASSWORD before MAIL. With --plain: a local relay
without TLS and without AUTH (Tollgate's smtp://HOST:PORT?starttls=off).
Each message received is written to OUT_DIR/<n>.json: {"mail_from",
"rcpt_tos", "data", "login", "tls"}.
Prints "PORT <n>" once listening; stops when stdin closes.
"""
import json
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    plain = sys.argv[1:2] == ["--plain"]
    if plain:
        out_dir, cert, key, user, password = sys.argv[2], None, None, None, None
    else:
        out_dir, cert, key, user, password = sys.argv[1:6]
    count = [0]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        if ok:
            session.tollgate_login = user
            session.tollgate_mechanism = mechanism
        return AuthResult(success=ok, handled=False)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            count[0] += 1
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "login": getattr(session, "tollgate_login", ""),
                "mechanism": getattr(session, "tollgate_mechanism", ""),
                "tls": session.ssl is not None,
            }
            path = os.path.join(out_dir, "%d.json" % count[0])
            with open(path + ".tmp", "w") as f:
                json.dump(record, f)
            os.rename(path + ".tmp", path)
            return "250 OK"

    port = free_port()
    if plain:
        controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    else:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        controller = Controller(Handler(), hostname="127.0.0.1", port=port,
                                tls_context=context, require_starttls=True,
                                auth_required=True, auth_require_tls=True,
                                authenticator=authenticator)
    controller.start()
    print("PORT %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
