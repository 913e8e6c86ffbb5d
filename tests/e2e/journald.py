"""A real systemd-journald for end-to-end tests, and reading it back.

Journald runs fine outside PID 1 on these machines (as root).  Each test
process gets a journal of its own: Journald() first moves the process into
a private mount namespace (unshare(CLONE_NEWNS), as root) with fresh tmpfs
over /run/systemd/journal, /run/log/journal and /var/log/journal, and
starts its own systemd-journald there.  Everything the test starts
(cloudsagad, journalctl) inherits the namespace, so it writes to and reads
from that journal only: tests of several suites, or of one suite run with
-j, never see each other's records or sockets, and a journald the machine
may run is left alone.  Where the namespace cannot be made (not root), a
journald already listening on the machine's socket is reused, or one is
started and stopped (by its PID) at the end, and the socket files it
created are removed so that later programs do not mistake a dead socket
for a journal.
"""
import ctypes
import ctypes.util
import json
import os
import shutil
import socket
import subprocess
import time

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PRIVATE_DIRS = ("/run/systemd/journal", "/run/log/journal",
                "/var/log/journal")
_private = None


def private_journal():
    """Move this process into a mount namespace with empty journal
    directories of its own.  True when done (also on a second call)."""
    global _private
    if _private is not None:
        return _private
    _private = False
    if os.geteuid() != 0:
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise RuntimeError("mount --make-rprivate /: %s" %
                           os.strerror(ctypes.get_errno()))
    for d in PRIVATE_DIRS:
        if d != "/var/log/journal" or os.path.isdir(d):
            os.makedirs(d, exist_ok=True)
            if libc.mount(b"tmpfs", d.encode(), b"tmpfs", 0,
                          b"mode=0755") != 0:
                raise RuntimeError("mount tmpfs %s: %s" %
                                   (d, os.strerror(ctypes.get_errno())))
    _private = True
    return True

JOURNALD = "/lib/systemd/systemd-journald"
RUNDIR = "/run/systemd/journal"
SOCKET = RUNDIR + "/socket"
SOCKETS = ("socket", "stdout", "dev-log", "io.systemd.journal")


def listening(path=SOCKET):
    """Is a datagram socket bound at path (not a stale file)?"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Journald:
    def __init__(self):
        self.proc = None
        self.created = []
        private = private_journal()
        if listening() and not private:
            return
        if os.geteuid() != 0:
            raise RuntimeError("starting systemd-journald needs root")
        if not os.path.exists(JOURNALD):
            raise RuntimeError("%s not found" % JOURNALD)
        had_dir = os.path.isdir(RUNDIR)
        before = {n for n in SOCKETS if os.path.exists(os.path.join(RUNDIR, n))}
        self.proc = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not listening():
            if self.proc.poll() is not None:
                raise RuntimeError("systemd-journald exited with %d"
                                   % self.proc.returncode)
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("systemd-journald did not start")
            time.sleep(0.05)
        self.created = [os.path.join(RUNDIR, n) for n in SOCKETS
                        if n not in before]
        self.created_dir = None if had_dir else RUNDIR

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.created_dir:
            shutil.rmtree(self.created_dir, ignore_errors=True)
            return
        for p in self.created:
            try:
                os.unlink(p)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def records(*matches):
    """Every journal entry matching FIELD=value matches, as dicts."""
    p = subprocess.run(["journalctl", "--no-pager", "-o", "json"] +
                       list(matches), capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0 and "No entries" not in p.stderr:
        raise RuntimeError("journalctl failed: " + p.stderr)
    return [json.loads(line) for line in p.stdout.splitlines() if line]


def wait_records(*matches, count=1, timeout=15.0):
    """records(), waiting until there are at least count of them."""
    deadline = time.monotonic() + timeout
    while True:
        got = records(*matches)
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.2)
