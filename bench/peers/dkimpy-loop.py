"""The dkimpy peer: dkim.verify over every file of the dump in a loop, keys from the JSON file.
Prints {"messages": N, "passes": N} as JSON."""
import json
import os
import sys

import dkim

directory, keys_file = sys.argv[1], sys.argv[2]
keys = {k.lower(): v for k, v in json.load(open(keys_file)).items()}


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    txt = keys.get(name.rstrip(".").lower())
    return txt[0].encode() if txt else None


files = sorted(os.path.join(root, f) for root, _, names in os.walk(directory) for f in names)
passes = 0
for path in files:
    with open(path, "rb") as handle:
        message = handle.read()
    try:
        if dkim.verify(message, dnsfunc=dnsfunc, minkey=1024):
            passes += 1
    except Exception:
        pass
print(json.dumps({"messages": len(files), "passes": passes}))
