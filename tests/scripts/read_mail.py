#!/usr/bin/env python3
"""Prints the messages of a Maildir as JSON, parsed by Python's own email
library (not the hub's): from, to, subject, text and html parts."""
import json
import mailbox
import sys
from email import policy
from email.parser import BytesParser

out = []
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
for key in sorted(box.keys()):
    with open(box._lookup(key) and f"{sys.argv[1]}/{box._lookup(key)}", "rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    images = []
    for part in message.walk():
        if part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            images.append({
                "content_type": part.get_content_type(),
                "content_id": str(part.get("Content-ID", "")).strip("<>"),
                "png": data[:8] == b"\x89PNG\r\n\x1a\n",
                "size": len(data),
            })
    out.append({
        "images": images,
        "from": str(message["From"]),
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "content_type": message.get_content_type(),
        "text": text.get_content() if text else None,
        "html": html.get_content() if html else None,
    })
print(json.dumps(out))
