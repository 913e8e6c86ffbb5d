"""Counters for GET /_sandbox/stats."""

import threading


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = {}
            self.lookups = {}
            self.faults = {}
            self.test_event_pattern = 0
            self.test_metric_filter = 0
            self.records = 0
            self.dropped = 0
            self.duplicates = 0

    def request(self, service, action):
        with self.lock:
            svc = self.requests.setdefault(service or "unknown", {})
            svc[action or "unknown"] = svc.get(action or "unknown", 0) + 1

    def lookup(self, key, throttled):
        with self.lock:
            entry = self.lookups.setdefault("%s/%s" % key, {"calls": 0, "throttled": 0})
            entry["calls"] += 1
            if throttled:
                entry["throttled"] += 1

    def fault(self, service, kind):
        with self.lock:
            k = "%s/%s" % (service, kind)
            self.faults[k] = self.faults.get(k, 0) + 1

    def count(self, name):
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def to_json(self):
        with self.lock:
            total = sum(sum(v.values()) for v in self.requests.values())
            return {
                "requests": {s: dict(sorted(a.items()))
                             for s, a in sorted(self.requests.items())},
                "requests_total": total,
                "lookup_events": dict(sorted((k, dict(v)) for k, v in self.lookups.items())),
                "test_event_pattern": self.test_event_pattern,
                "test_metric_filter": self.test_metric_filter,
                "faults": dict(sorted(self.faults.items())),
                "records": self.records,
                "dropped": self.dropped,
                "duplicates": self.duplicates,
            }
