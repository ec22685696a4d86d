#!/usr/bin/env python3
"""Checks slack-manifest.json (HTTP mode) and slack-manifest.socket.json (Socket
Mode) against Slack's app manifest JSON schema (v1, draft-07) with Debian's
python3-jsonschema, and checks what Tollgate needs of each: the /tasks command
with should_escape, the home tab, interactivity, the events it handles, and
exactly the bot scopes it uses. The HTTP manifest posts each to its endpoint;
the Socket Mode one has socket_mode_enabled and no request URL at all, and
apart from those is the same manifest (the two cannot drift apart).

A negative control (Slack's own invalid example) must be refused, so that a
validator that accepts everything cannot pass this test.

usage: check_manifest.py MANIFEST SCHEMA INVALID_EXAMPLE [SOCKET_MANIFEST]
"""
import json
import sys

import jsonschema

manifest_path, schema_path, invalid_path = sys.argv[1:4]
socket_path = sys.argv[4] if len(sys.argv) > 4 else None
schema = json.load(open(schema_path))
validator = jsonschema.Draft7Validator(schema)

failures = []


def check(path, socket_mode):
    manifest = json.load(open(path))
    for error in sorted(validator.iter_errors(manifest), key=str):
        failures.append("%s: schema: %s: %s" % (path, "/".join(map(str, error.path)) or "$", error.message))

    def need(cond, what):
        if not cond:
            failures.append("%s: tollgate: %s" % (path, what))

    commands = manifest.get("features", {}).get("slash_commands", [])
    tasks = [c for c in commands if c.get("command") == "/tasks"]
    need(len(tasks) == 1, "one /tasks command")
    need(tasks and tasks[0].get("should_escape") is True, "/tasks with should_escape (mentions arrive as <@U…>)")
    need(manifest["features"].get("app_home", {}).get("home_tab_enabled") is True, "the App Home tab")
    settings = manifest.get("settings", {})
    need(settings.get("interactivity", {}).get("is_enabled") is True, "interactivity enabled")
    events = settings.get("event_subscriptions", {})
    need(sorted(events.get("bot_events", [])) ==
         sorted(["app_home_opened", "message.channels", "message.groups", "message.im", "message.mpim"]),
         "exactly the events Tollgate handles")
    scopes = sorted(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", []))
    need(scopes == sorted(["chat:write", "commands", "users:read", "users:read.email", "channels:history",
                           "groups:history", "im:history", "mpim:history"]),
         "exactly the bot scopes Tollgate uses, got %s" % scopes)
    urls = [tasks[0].get("url") if tasks else None, settings.get("interactivity", {}).get("request_url"),
            events.get("request_url")]
    if socket_mode:
        need(settings.get("socket_mode_enabled") is True, "Socket Mode enabled")
        need(urls == [None, None, None], "no request URL in Socket Mode, got %s" % urls)
    else:
        need(settings.get("socket_mode_enabled") is False, "HTTP mode (no Socket Mode)")
        need((urls[0] or "").endswith("/slack/commands"), "/tasks posts to /slack/commands")
        need((urls[1] or "").endswith("/slack/interactions"), "interactivity posts to /slack/interactions")
        need((urls[2] or "").endswith("/slack/events"), "events post to /slack/events")
    return manifest


def without_urls(manifest):
    m = json.loads(json.dumps(manifest))
    for c in m.get("features", {}).get("slash_commands", []):
        c.pop("url", None)
    m.get("settings", {}).get("interactivity", {}).pop("request_url", None)
    m.get("settings", {}).get("event_subscriptions", {}).pop("request_url", None)
    m.get("settings", {}).pop("socket_mode_enabled", None)
    return m


invalid = json.load(open(invalid_path))
if not list(validator.iter_errors(invalid)):
    failures.append("control: Slack's invalid example was accepted; the validator checks nothing")

http_manifest = check(manifest_path, socket_mode=False)
if socket_path:
    socket_manifest = check(socket_path, socket_mode=True)
    if without_urls(http_manifest) != without_urls(socket_manifest):
        failures.append("%s differs from %s in more than the request URLs and socket_mode_enabled"
                        % (socket_path, manifest_path))

for f in failures:
    print(f)
print("manifests: %s" % ("OK" if not failures else "%d problem(s)" % len(failures)))
sys.exit(1 if failures else 0)
