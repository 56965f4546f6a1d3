"""The shelly source through the daemon, against fake plugs serving the
answers recorded from real ones (fake_shelly.py; no plug can be here): a
Gen1 plug and a Gen2 plug with a password (HTTP Digest) report watts per
device; a wrong password is a clear error in /status; the energy counter
goes on through a reboot of the plug and a restart of edgemon; an unplugged
plug is edge_power_source_up 0 with no watts while the other plug still
reports."""
import os
import re
import signal
import sys

import harness
from fake_shelly import FakeShelly
from harness import (SLOW, Daemon, check, eventually, make_tmpdir, promtool_check_metrics,
                     run_cli, write_file)

RECORDED_WH = 43190.063


def config_text(gen1, gen2, gen1_locked):
    return f"""
collect:
  interval: 1s
sources:
  shelly:
    - name: desk
      url: {gen1.url}
      interval: 200ms
      timeout: 1s
    - name: rack
      url: {gen2.url}/
      password: secret
      interval: 200ms
      timeout: 1s
    - name: cellar
      url: {gen1_locked.url}
      password: pw
      interval: 200ms
      timeout: 1s
    - name: cellar-wrong
      url: {gen1_locked.url}
      generation: 1
      password: not-pw
      interval: 200ms
      timeout: 1s
    - name: nochannel
      url: {gen2.url}
      password: secret
      channels: [switch:0, switch:1]
      interval: 200ms
      timeout: 1s
    - name: locked
      url: {gen2.url}
      generation: 2
      password: not-the-password
      interval: 200ms
      timeout: 1s
"""


def value(text, series):
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def series(name, device, rail=None):
    # In the order the source writes them.
    labels = f'source="shelly",device="{device}"'
    if rail is not None:
        labels += f',rail="{rail}"'
    return f'{name}{{{labels}}}'


def status_of(d, name):
    return {s["name"]: s for s in d.get_json("/status")["sources"]}[name]


def maps_libcrypto(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libcrypto" in f.read()


def test_two_plugs_auth_counter_and_outage():
    gen1 = FakeShelly(1)
    gen2 = FakeShelly(2, password="secret")
    gen1_locked = FakeShelly(1, password="pw")
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    write_file(config, config_text(gen1, gen2, gen1_locked))
    state_dir = make_tmpdir("edgemon-state-")

    d = Daemon(config_path=config, state_dir=state_dir).start()
    try:
        eventually(lambda: value(d.metrics(), series("edge_power_watts", "desk", "meter:0")),
                   5 * SLOW, what="the Gen1 plug's watts")
        eventually(lambda: value(d.metrics(), series("edge_power_watts", "rack", "switch:0")),
                   5 * SLOW, what="the Gen2 plug's watts (through digest authentication)")
        text = d.metrics()
        check(value(text, series("edge_power_watts", "desk", "meter:0")) == 42.17, text[-3000:])
        check(value(text, series("edge_power_watts", "rack", "switch:0")) == 42.3, text[-3000:])
        check(value(text, series("edge_voltage_volts", "rack", "switch:0")) == 229.8, "volts")
        check(value(text, series("edge_current_amperes", "rack", "switch:0")) == 0.231, "amperes")
        check(value(text, series("edge_power_relay_on", "desk", "relay:0")) == 1, "relay")
        joules = value(text, series("edge_energy_joules_total", "rack", "switch:0"))
        check(abs(joules - RECORDED_WH * 3600) < 1e-3, f"Gen2 energy {joules}")
        joules1 = value(text, series("edge_energy_joules_total", "desk", "meter:0"))
        check(joules1 == 2591403 * 60, f"Gen1 energy (watt-minutes) {joules1}")
        for device in ("desk", "rack"):
            check(value(text, series("edge_power_source_up", device)) == 1, f"{device} not up")

        # Digest authentication computed with libcrypto, loaded for it.
        check(maps_libcrypto(d.pid), "no libcrypto mapped, yet digests were computed")

        # The plug's nonce is reused (firmware 2.0+): one challenge, then
        # every poll is a single authenticated request.
        eventually(lambda: gen2.count("authorized") >= 5, 5 * SLOW,
                   what="authenticated polls of the Gen2 plug")

        # A wrong password: up 0, no watts, and /status says why.
        eventually(lambda: value(d.metrics(), series("edge_power_source_up", "locked")) == 0,
                   5 * SLOW, what="the wrongly authenticated plug reported down")
        check(series("edge_power_watts", "locked", "switch:0") not in d.metrics(),
              "watts for a plug that refused us")
        error = status_of(d, "locked").get("error", "")
        check("wrong password" in error, f"/status error for 'locked': {error!r}")
        check(gen2.count("bad_digest") >= 1, "the fake never saw a digest answer from 'locked'")

        # Gen1 with a password: HTTP Basic.
        eventually(lambda: value(d.metrics(), series("edge_power_watts", "cellar", "meter:0")),
                   5 * SLOW, what="the Gen1 plug's watts through HTTP Basic")
        error = eventually(lambda: status_of(d, "cellar-wrong").get("error"), 5 * SLOW,
                           what="an error for a wrong Gen1 password")
        check("Basic" in error and "wrong password" in error,
              f"/status error for 'cellar-wrong': {error!r}")

        # A component the plug does not have: the plug's own words.
        error = eventually(lambda: status_of(d, "nochannel").get("error"), 5 * SLOW,
                           what="an error for a component the plug lacks")
        check("Switch.GetStatus?id=1" in error and "error -105" in error,
              f"/status error for 'nochannel': {error!r}")

        ours = "\n".join(l for l in d.metrics().splitlines()
                         if l.startswith("edge_") or " edge_" in l or "edgemon_shelly" in l) + "\n"
        rc, errors = promtool_check_metrics(ours)
        check(rc == 0 and not errors, f"promtool check metrics: {errors}\n{ours}")

        # The plug rebooted: its counter is back near 0; ours goes on.
        gen2.set_energy_wh(1.0)
        expected = RECORDED_WH * 3600 + 3600
        eventually(lambda: abs((value(d.metrics(), series("edge_energy_joules_total", "rack",
                                                           "switch:0")) or 0) - expected) < 1e-3,
                   5 * SLOW, what="the energy counter continued across the plug's reboot")
        check(value(d.metrics(), 'edgemon_shelly_energy_resets_total{source="rack"}') == 1,
              "the plug's reboot not counted")

        # An edgemon restart keeps the total (the offset is in state.db).
        d.stop_checked()
        gen2.set_energy_wh(2.0)
        d = Daemon(config_path=config, state_dir=state_dir).start()
        expected = RECORDED_WH * 3600 + 2 * 3600
        eventually(lambda: abs((value(d.metrics(), series("edge_energy_joules_total", "rack",
                                                           "switch:0")) or 0) - expected) < 1e-3,
                   5 * SLOW, what="the energy total kept across an edgemon restart")

        # The Gen1 plug unplugged: up 0 and no watts -- never 0 W -- while
        # the other plug still reports.
        gen1.stop()
        eventually(lambda: value(d.metrics(), series("edge_power_source_up", "desk")) == 0,
                   5 * SLOW, what="the unplugged plug reported down")
        text = d.metrics()
        check(series("edge_power_watts", "desk", "meter:0") not in text,
              "watts still published for the unplugged plug:\n" + text[-3000:])
        check(series("edge_energy_joules_total", "desk", "meter:0") not in text,
              "energy still published for the unplugged plug")
        check(value(text, series("edge_power_watts", "rack", "switch:0")) == 42.3,
              "the other plug stopped reporting")
        error = status_of(d, "desk").get("error", "")
        check(gen1.url in error and "refused" in error,
              f"/status error for 'desk' does not say the plug refused: {error!r}")
        d.stop_checked()
    except BaseException:
        print(f"--- daemon stderr tail ---\n{d.log.tail()}\n---", file=sys.stderr)
        raise
    finally:
        d.kill()
        gen2.stop()
        gen1_locked.stop()


def test_no_password_maps_no_libcrypto():
    """OpenSSL is several MiB of mappings: a plug without a password must
    not bring it in (the daemon's own http:// needs none)."""
    gen1 = FakeShelly(1)
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")
    write_file(config, f"""
sources:
  shelly:
    - name: desk
      url: {gen1.url}
      interval: 200ms
""")
    d = Daemon(config_path=config).start()
    try:
        eventually(lambda: value(d.metrics(), series("edge_power_watts", "desk", "meter:0")),
                   5 * SLOW, what="the Gen1 plug's watts")
        check(not maps_libcrypto(d.pid), "libcrypto mapped without any password configured")
        d.stop_checked()
    finally:
        d.kill()
        gen1.stop()


def test_reload_mid_collection_keeps_the_total():
    """A changed plug instance is stopped -- possibly with a request in
    flight to a slow plug -- and started anew; the new one goes on from the
    total the old one kept in the state."""
    gen2 = FakeShelly(2, password="secret")
    tmp = make_tmpdir()
    config = os.path.join(tmp, "edgemon.yaml")

    def plug_config(timeout_ms):
        write_file(config, f"""
sources:
  shelly:
    - name: rack
      url: {gen2.url}
      password: secret
      interval: 100ms
      timeout: {timeout_ms}ms
""")

    plug_config(1000)
    d = Daemon(config_path=config).start()
    try:
        total = series("edge_energy_joules_total", "rack", "switch:0")
        eventually(lambda: value(d.metrics(), total), 5 * SLOW, what="the plug's energy")
        gen2.set_energy_wh(0.5)  # a reboot: the offset is now the recorded total
        expected = RECORDED_WH * 3600 + 1800
        eventually(lambda: abs((value(d.metrics(), total) or 0) - expected) < 1e-3, 5 * SLOW,
                   what="the counter continued across the plug's reboot")
        gen2.set_delay(0.15)  # answers outlast the interval: reloads land mid-request
        for i in range(5):
            plug_config(1001 + i)
            start = d.log.count()
            os.kill(d.pid, signal.SIGHUP)
            _, event = d.log.wait_event("reloaded", 5 * SLOW, start)
            check(event is not None, f"no 'reloaded' after SIGHUP:\n{d.log.tail()}")
        gen2.set_delay(0)
        gen2.set_energy_wh(1.0)
        expected = RECORDED_WH * 3600 + 3600
        eventually(lambda: abs((value(d.metrics(), total) or 0) - expected) < 1e-3, 5 * SLOW,
                   what="the total kept by the restarted instances")
        check(d.running(), "the daemon died during the reloads")
        d.stop_checked()
    except BaseException:
        print(f"--- daemon stderr tail ---\n{d.log.tail()}\n---", file=sys.stderr)
        raise
    finally:
        d.kill()
        gen2.stop()


def test_configuration_errors():
    """`edgemon check` names each bad key of a plug's instance."""
    tmp = make_tmpdir()
    bad = write_file(os.path.join(tmp, "bad.yaml"), """
sources:
  shelly:
    - name: a
      url: ftp://10.0.0.5
      generation: 5
      channels: [em1:0]
""")
    r = run_cli(["check", "-c", bad])
    check(r.returncode != 0, f"edgemon check accepted a bad shelly instance: {r.stdout}")
    for expected in ("sources.shelly[0].url: expected an http:// or https:// URL",
                     "sources.shelly[0].generation: expected auto, 1, 2, 3 or 4",
                     "sources.shelly[0].channels: expected switch:N or pm1:N"):
        check(expected in r.stderr, f"{expected!r} not in:\n{r.stderr}")
    missing = write_file(os.path.join(tmp, "missing.yaml"), """
sources:
  shelly:
    - name: b
      channels: []
""")
    r = run_cli(["check", "-c", missing])
    check(r.returncode != 0, "edgemon check accepted a plug without url")
    check("sources.shelly[0].url: is required" in r.stderr, r.stderr)
    check("sources.shelly[0].channels: lists no component" in r.stderr, r.stderr)


if __name__ == "__main__":
    harness.main(globals())
