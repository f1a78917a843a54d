"""Draws Vega-Lite specs as SVG in a process of its own, for `render.py`.

vl-convert aborts the whole process (a Rust panic, SIGABRT: nothing to catch) on some input,
e.g. text XML cannot hold. So the exports never call it in the app's or the CLI's process: this
script runs as `python -c <its source>` in an empty temporary folder, reads one JSON request on
stdin, ``{"specs": [[name, spec], ...]}``, and writes one JSON line per chart as soon as it is
drawn, ``{"name": ..., "svg": ...}`` or ``{"name": ..., "error": ...}``, so a crash loses only
the chart being drawn. It imports nothing from northstar_lab (the standard library and
vl-convert only) and loads nothing from the network.
"""

import json
import re
import sys


def vl_version(spec: dict, available: set[str]) -> str | None:
    """The Vega-Lite version the spec was written for ('5.20'), if vl-convert bundles it."""
    m = re.search(r"/v(\d+)\.(\d+)", str(spec.get("$schema", "")))
    version = f"{m.group(1)}.{m.group(2)}" if m else None
    return version if version in available else None


def main() -> None:
    import vl_convert as vlc

    request = json.load(sys.stdin)
    available = set(vlc.get_vegalite_versions())
    for name, spec in request["specs"]:
        try:
            svg = vlc.vegalite_to_svg(
                spec, vl_version=vl_version(spec, available), allowed_base_urls=[]
            )
            line = {"name": name, "svg": svg}
        except Exception as exc:  # a spec vl-convert refuses: report it, draw the others
            line = {"name": name, "error": f"{type(exc).__name__}: {exc}"[:300]}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
