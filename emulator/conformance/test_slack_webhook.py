"""slack_sdk's WebhookClient (Slack's own Python SDK) and plain `requests` against the
emulator's Slack-shaped incoming webhooks: every message form Slack accepts (text, blocks,
attachments, a form-encoded `payload=`) is posted and recorded; each documented error comes
back with Slack's status and code, the hook checked before the payload (so an empty payload
tells a live hook, `400 no_text`, from a dead one without posting anything)."""

import json

import requests
from slack_sdk.webhook import WebhookClient


def hook(emulator, name, archived=False):
    return emulator.post("/_emulator/slack/webhooks", {"name": name, "archived": archived})


def messages(emulator, name):
    return emulator.get(f"/_emulator/slack/{name}")["messages"]


def test_every_accepted_message_form_is_posted(emulator):
    made = hook(emulator, "deploys")
    assert made["slack_url"].startswith("https://hooks.slack.com/services/T")
    client = WebhookClient(made["url"])
    assert client.send(text="plain text").status_code == 200
    answer = client.send(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*b*"}}])
    assert (answer.status_code, answer.body) == (200, "ok")
    answer = client.send(attachments=[{"fallback": "f", "color": "good", "text": "a"}])
    assert answer.status_code == 200
    form = requests.post(made["url"], data={"payload": json.dumps({"text": "from a form"})}, timeout=30)
    assert (form.status_code, form.text) == (200, "ok")
    texts = [m["text"] for m in messages(emulator, "deploys")]
    assert texts == ["plain text", None, None, "from a form"]


def test_an_empty_payload_is_refused_without_posting(emulator):
    made = hook(emulator, "quiet")
    answer = requests.post(made["url"], json={}, timeout=30)
    assert (answer.status_code, answer.text) == (400, "no_text")
    answer = WebhookClient(made["url"]).send(text="")
    assert (answer.status_code, answer.body) == (400, "no_text")
    answer = requests.post(made["url"], data=b"{not json", headers={"content-type": "application/json"}, timeout=30)
    assert (answer.status_code, answer.text) == (400, "invalid_payload")
    answer = requests.post(made["url"], data={"text": "no payload field"}, timeout=30)
    assert (answer.status_code, answer.text) == (400, "invalid_payload")
    answer = WebhookClient(made["url"]).send(attachments=[{"color": "good"}])
    assert (answer.status_code, answer.body) == (400, "missing_text_or_fallback_or_attachments")
    assert messages(emulator, "quiet") == []


def test_dead_hooks_answer_with_slacks_codes(emulator):
    made = hook(emulator, "gone")
    removed = requests.delete(emulator.base + "/_emulator/slack/webhooks/gone", timeout=30).json()
    assert removed == {"removed": 1}
    answer = WebhookClient(made["url"]).send(text="hello")
    assert (answer.status_code, answer.body) == (403, "invalid_token")
    unknown = made["url"].rsplit("/", 1)[0] + "/" + "x" * 24
    answer = requests.post(unknown, json={}, timeout=30)
    assert (answer.status_code, answer.text) == (404, "no_service")
    archived = hook(emulator, "old-channel", archived=True)
    answer = requests.post(archived["url"], json={"text": "hi"}, timeout=30)
    assert (answer.status_code, answer.text) == (410, "channel_is_archived")
    assert messages(emulator, "gone") == []
