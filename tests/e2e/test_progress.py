"""--scenario's live progress while it waits for CloudTrail.

On a terminal (stderr on a pseudo-terminal, os.openpty): one line redrawn
in place ("\\r", erase to the end of the line) with the calls pending, the
verdicts so far, the next poll and the time to the deadline, counting
down; erased before every verdict line and at the end, so the final screen
(the output replayed through a small terminal model) holds no progress
line and every verdict line whole.  Not on a terminal: plain lines, the
first at once and then at most one every 10 seconds, without control
characters.  The sandbox drops CreateVpc, so the run waits for its
deadline.
"""
import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env

PROGRESS = re.compile(r"verifying: (\d+) pending; (\d+) logged, (\d+) "
                      r"missing, (\d+) unverified; (polling now|next poll "
                      r"(?:in )?(\S+)|no poll due); deadline "
                      r"(?:in )?(\S+)")


def seconds(s):
    """"1m05s" / "12s" / "now" -> seconds."""
    if s == "now":
        return 0
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+)s", s)
    assert m, s
    h, mi, se = (int(x) if x else 0 for x in m.groups())
    return h * 3600 + mi * 60 + se


def screen(data):
    """What a terminal shows after data: \\r, \\n, ESC[K, ESC[nA."""
    lines, row, col = [""], 0, 0
    i = 0
    while i < len(data):
        c = data[i]
        m = re.match(r"\x1b\[(\d*)([AK])", data[i:])
        if m:
            if m.group(2) == "K":
                lines[row] = lines[row][:col]
            else:
                row = max(0, row - int(m.group(1) or 1))
            i += m.end()
            continue
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
            col = 0
            if row == len(lines):
                lines.append("")
        else:
            ln = lines[row].ljust(col)
            lines[row] = ln[:col] + c + ln[col + 1:]
            col += 1
        i += 1
    return lines


def args(sb, timeout):
    return [CLOUDSAGAD, "--scenario", "network-changes", "--regions",
            "us-east-1", "--verify-interval", "1s", "--verify-timeout",
            timeout]


class Progress(unittest.TestCase):
    def test_terminal_line_redrawn_and_erased(self):
        self.terminal(0)

    def test_terminal_line_cut_to_the_width(self):
        """On a narrow terminal the line is cut, never wrapped (a wrapped
        line cannot be redrawn in place)."""
        draws = self.terminal(60)
        self.assertTrue(all(len(d) == 59 for d in draws), draws)

    def terminal(self, cols):
        with Sandbox("--delay", "1:2", "--drop", "CreateVpc") as sb:
            master, slave = os.openpty()
            if cols:
                fcntl.ioctl(slave, termios.TIOCSWINSZ,
                            struct.pack("HHHH", 24, cols, 0, 0))
            env = clean_env(AWS_ENDPOINT_URL=sb.url, TERM="xterm")
            t0 = time.monotonic()
            p = subprocess.Popen(args(sb, "8s"), env=env,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=slave,
                                 text=True)
            os.close(slave)
            chunks = []

            def read():
                while True:
                    try:
                        b = os.read(master, 65536)
                    except OSError:         # EIO: the child closed it
                        return
                    if not b:
                        return
                    chunks.append(b)
            r = threading.Thread(target=read, daemon=True)
            r.start()
            out, _ = p.communicate(timeout=120)
            p.stdout.close()
            r.join(10)
            os.close(master)
            elapsed = time.monotonic() - t0
        err = b"".join(chunks).decode()
        self.assertEqual(p.returncode, 1, err)      # the gap
        self.assertIn("CreateVpc", out)

        draws = [m for m in re.finditer(r"\r\x1b\[K(verifying: [^\r\n]*)",
                                        err)]
        self.assertGreaterEqual(len(draws), 4, repr(err[-3000:]))
        if cols:
            return [d.group(1) for d in draws]
        seen = [PROGRESS.match(d.group(1)) for d in draws]
        self.assertTrue(all(seen), [d.group(1) for d in draws])
        pending = [int(m.group(1)) for m in seen]
        self.assertTrue(all(n > 0 for n in pending), pending)
        self.assertEqual(pending, sorted(pending, reverse=True))
        self.assertEqual(pending[-1], 1)        # CreateVpc, never logged
        self.assertTrue(any(int(m.group(2)) > 0 for m in seen))
        left = [seconds(m.group(7)) for m in seen]
        self.assertEqual(left, sorted(left, reverse=True))
        self.assertLessEqual(left[0], 8)
        self.assertLess(left[-1], left[0])
        # Redrawn about once a second, not in a busy loop.
        self.assertLessEqual(len(draws), elapsed + 3)
        self.assertTrue(any(m.group(5) and m.group(5).startswith(
            "next poll") for m in seen))

        # What stays on the screen: no progress line, whole verdict lines.
        shown = screen(err)
        self.assertFalse([ln for ln in shown if "verifying:" in ln], shown)
        verdicts = [ln for ln in shown if re.match(r"  \S", ln)]
        self.assertTrue(verdicts, shown)
        for ln in verdicts:
            self.assertNotIn("pending;", ln)
        self.assertTrue(any("CreateVpc" in ln for ln in verdicts), verdicts)

    def test_plain_lines_at_most_every_10s(self):
        with Sandbox("--delay", "1:2", "--drop", "CreateVpc") as sb:
            env = clean_env(AWS_ENDPOINT_URL=sb.url)
            p = subprocess.Popen(args(sb, "25s"), env=env,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            lines = []

            def read():
                for ln in p.stderr:
                    lines.append((time.monotonic(), ln))
            r = threading.Thread(target=read, daemon=True)
            r.start()
            p.stdout.read()
            p.wait(120)
            r.join(10)
            p.stdout.close()
            p.stderr.close()
        text = "".join(ln for _, ln in lines)
        self.assertEqual(p.returncode, 1, text)
        self.assertNotIn("\r", text)
        self.assertNotIn("\x1b", text)
        prog = [(t, ln) for t, ln in lines
                if ln.startswith("cloudsagad: verifying: ")]
        self.assertGreaterEqual(len(prog), 2, text)
        self.assertLessEqual(len(prog), 4, text)
        for (t1, _), (t2, _) in zip(prog, prog[1:]):
            self.assertGreaterEqual(t2 - t1, 9.0, text)
        for _, ln in prog:
            self.assertTrue(PROGRESS.search(ln), ln)


if __name__ == "__main__":
    unittest.main(verbosity=2)
