#!/usr/bin/env python3
"""Checks slack-manifest.json against Slack's app manifest JSON schema (v1,
draft-07) with Debian's python3-jsonschema, and checks what Tollgate needs of
it: the /tasks command with should_escape, the home tab, interactivity, the
events it handles, and exactly the bot scopes it uses.

A negative control (Slack's own invalid example) must be refused, so that a
validator that accepts everything cannot pass this test.

usage: check_manifest.py MANIFEST SCHEMA INVALID_EXAMPLE
"""
import json
import sys

import jsonschema

manifest_path, schema_path, invalid_path = sys.argv[1:4]
schema = json.load(open(schema_path))
validator = jsonschema.Draft7Validator(schema)

failures = []
manifest = json.load(open(manifest_path))
for error in sorted(validator.iter_errors(manifest), key=str):
    failures.append("schema: %s: %s" % ("/".join(map(str, error.path)) or "$", error.message))

invalid = json.load(open(invalid_path))
if not list(validator.iter_errors(invalid)):
    failures.append("control: Slack's invalid example was accepted; the validator checks nothing")

def need(cond, what):
    if not cond:
        failures.append("tollgate: " + what)

commands = manifest.get("features", {}).get("slash_commands", [])
tasks = [c for c in commands if c.get("command") == "/tasks"]
need(len(tasks) == 1, "one /tasks command")
need(tasks and tasks[0].get("should_escape") is True, "/tasks with should_escape (mentions arrive as <@U…>)")
need(tasks and tasks[0].get("url", "").endswith("/slack/commands"), "/tasks posts to /slack/commands")
need(manifest["features"].get("app_home", {}).get("home_tab_enabled") is True, "the App Home tab")
settings = manifest.get("settings", {})
need(settings.get("interactivity", {}).get("is_enabled") is True, "interactivity enabled")
need(settings.get("interactivity", {}).get("request_url", "").endswith("/slack/interactions"),
     "interactivity posts to /slack/interactions")
events = settings.get("event_subscriptions", {})
need(events.get("request_url", "").endswith("/slack/events"), "events post to /slack/events")
need(sorted(events.get("bot_events", [])) ==
     sorted(["app_home_opened", "message.channels", "message.groups", "message.im", "message.mpim"]),
     "exactly the events Tollgate handles")
scopes = sorted(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", []))
need(scopes == sorted(["chat:write", "commands", "users:read", "users:read.email", "channels:history",
                       "groups:history", "im:history", "mpim:history"]),
     "exactly the bot scopes Tollgate uses, got %s" % scopes)
need(settings.get("socket_mode_enabled") is False, "HTTP mode (no Socket Mode)")

for f in failures:
    print(f)
print("slack-manifest.json: %s" % ("OK" if not failures else "%d problem(s)" % len(failures)))
sys.exit(1 if failures else 0)
