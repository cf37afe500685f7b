#!/usr/bin/env python3
"""Writes wire.jsonl: seven short news records invented for these tests (no text
from any corpus). Three stories; a syndicated copy of one with a new headline,
dateline and one edited number; a copy of another with an upper-cased paragraph,
spacing changes and a dash in the headline; the third with its body pasted twice;
and a hard negative that shares only the wire's copyright footer.

Usage: python3 make_wire.py > wire.jsonl
"""
import json

footer = "Copyright 2026 Example Wire. All rights reserved. This material may not be published, broadcast, rewritten or redistributed."
stories = {
 "ferry": ["Ferry service between the two islands resumed on Friday after a three-day strike by deckhands ended with a new wage agreement reached late on Thursday night.",
           "The operator said all scheduled crossings would run normally over the weekend, although passengers were warned to expect long queues at both terminals.",
           "Union leaders said the deal raised pay by six percent over two years and added a guaranteed rest period between night and day shifts for all crews.",
           "Local shops on the smaller island had run short of fresh produce during the strike, and several restaurants closed early for lack of supplies."],
 "storm": ["A line of strong thunderstorms swept across the region on Wednesday afternoon, knocking out power to more than twelve thousand homes and businesses.",
           "Utility crews worked through the night to restore service, and most customers had power again by Thursday morning, a company spokesperson said.",
           "Forecasters said a second, weaker band of storms could bring heavy rain and gusty winds on Saturday before cooler and drier air arrives next week.",
           "Officials urged drivers to avoid flooded underpasses and reminded residents that downed lines should always be treated as live and dangerous."],
 "bridge": ["The new bridge opened to traffic on Monday morning, cutting the commute across the bay by almost twenty minutes for most drivers at rush hour.",
           "Officials said the toll would remain free for the first month while the electronic payment system is tested on both directions of the crossing.",
           "The project was finished four months late and about eight percent over budget, which the transport agency blamed on steel prices and a wet winter.",
           "Cyclists will get a separated lane with its own lighting, and a footpath on the north side offers views of the harbour and the old lighthouse."],
}


def doc(paras):
    return "\n\n".join(paras)


docs = [
    {"id": "wire-ferry", "text": doc(["Ferry service resumes after strike"] + stories["ferry"] + [footer]), "date": "2026-03-02"},
    {"id": "wire-storm", "text": doc(["Storms cut power to thousands"] + stories["storm"] + [footer]), "date": "2026-03-03"},
]
f = list(stories["ferry"])
f[2] = f[2].replace("six percent", "6 percent")
docs.append({"id": "herald-ferry", "text": doc(["ISLAND CITY (Wire) - Ferries running again"] + f + [footer]), "date": "2026-03-04"})
docs.append({"id": "wire-bridge", "text": doc(["Bridge opens to traffic"] + stories["bridge"] + [footer]), "date": "2026-03-04"})
docs.append({"id": "blog-bridge-review", "text": doc(["Why the bridge matters", "Commuters have waited a decade for a faster way across the bay, and the opening finally delivers on that promise for drivers and cyclists alike.", footer]), "date": "2026-03-05"})
s = [p.replace(", ", " , ").upper() if i == 0 else p for i, p in enumerate(stories["storm"])]
docs.append({"id": "radio-storm", "text": doc(["Storms cut power to thousands \u2014 update"] + s + [footer]), "date": "2026-03-06"})
docs.append({"id": "aggregator-bridge", "text": doc(["Bridge opens to traffic"] + stories["bridge"] + stories["bridge"] + [footer]), "date": "2026-03-07"})
for d in docs:
    print(json.dumps(d, ensure_ascii=False))
