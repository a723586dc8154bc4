#!/usr/bin/env python3
"""The IPMI BMC of one lab node: IPMI 2.0 (RMCP+, "lanplus") on the lab bridge, served by pyghmi's Bmc
(OpenStack's IPMI library, the one virtualbmc is built on), whose chassis power is the node's power:

  status  on while any process of the node runs (lab.sh power-status), or while it is in its self-test
  off     power cut: kill -9 of the node's init, every process dies at once (lab.sh power-cut); the stock
          fence_ipmilan then polls status until the node is off
  on      "on" at once, the boot (lab.sh poweron --no-wait) after --post-seconds, as a server's firmware
          self-test delays its operating system
  reset / cycle   off, wait until off, on

The password is read from a file (IPMI 2.0: at most 20 bytes), never from the command line.
  bmc.py --node pglab1 --address 10.250.77.21 --port 623 --user admin --password-file FILE --lab lab.sh
"""
import argparse
import logging
import signal
import subprocess
import sys
import threading
import time

import pyghmi.ipmi.bmc as bmc

log = logging.getLogger("bmc")

# IPMI completion codes.
OK = 0x00
UNSPECIFIED_ERROR = 0xFF
INVALID_COMMAND = 0xC1


class NodeBmc(bmc.Bmc):
    def __init__(self, node, lab, post_seconds, **kwargs):
        super().__init__(**kwargs)
        self.node = node
        self.lab = lab
        self.post_seconds = post_seconds
        self.post = None  # the pending boot while the node is in its self-test
        self.bootdev = "default"

    def _lab(self, *args, timeout=10):
        return subprocess.run(["bash", self.lab, *args], stdin=subprocess.DEVNULL, timeout=timeout).returncode

    def _is_on(self):
        return self._lab("power-status", self.node) == 0

    def _in_post(self):
        return self.post is not None and self.post.is_alive()

    def get_power_state(self):
        return "on" if self._in_post() or self._is_on() else "off"

    def power_off(self):
        log.info("power off")
        if self._in_post():
            self.post.cancel()
        return OK if self._lab("power-cut", self.node) == 0 else UNSPECIFIED_ERROR

    def _boot(self):
        if self._lab("poweron", self.node, "--no-wait", timeout=60) != 0:
            log.error("boot failed")

    def power_on(self):
        log.info("power on (boot in %ss)", self.post_seconds)
        if self._in_post() or self._is_on():
            return OK
        self.post = threading.Timer(self.post_seconds, self._boot)
        self.post.start()
        return OK

    def power_reset(self):
        log.info("power reset")
        if self.power_off() != OK:
            return UNSPECIFIED_ERROR
        deadline = time.monotonic() + 30
        while self._is_on():
            if time.monotonic() > deadline:
                return UNSPECIFIED_ERROR
            time.sleep(0.1)
        return self.power_on()

    power_cycle = power_reset

    def power_shutdown(self):
        return INVALID_COMMAND

    # Answered so that pyghmi does not fail on boot-option queries.
    def get_boot_device(self):
        return self.bootdev

    def set_boot_device(self, bootdevice):
        self.bootdev = bootdevice


def main():
    ap = argparse.ArgumentParser(description="IPMI BMC of one pgha lab node")
    ap.add_argument("--node", required=True)
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, default=623)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--post-seconds", type=float, default=0, help="from power on to the boot")
    ap.add_argument("--lab", required=True, help="lab.sh")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s bmc {a.node} %(message)s")
    with open(a.password_file, encoding="utf-8") as f:
        password = f.read().strip()
    if not password or len(password.encode()) > 20:
        sys.exit("bmc: the password must have 1 to 20 bytes (IPMI 2.0)")
    server = NodeBmc(a.node, a.lab, a.post_seconds, authdata={a.user: password}, port=a.port, address=a.address)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("listening on %s:%d", a.address, a.port)
    server.listen(timeout=30)


if __name__ == "__main__":
    main()
