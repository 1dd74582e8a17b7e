"""Run every benchmark (bench_*.py) in turn; each prints its table and writes bench/results/<name>.json.

    python bench/run.py [NAME ...] [ARGS ...]

NAMEs (e.g. `sending core`) run only bench_NAME.py; further arguments go to each script. `sending` brings the
PostgreSQL workers' scaling table (bench_pg_workers.py, its own defaults) after its rows: the two are read together.
"""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
scripts = sorted(here.glob("bench_*.py"))
names = {s.stem.removeprefix("bench_"): s for s in scripts}
args = sys.argv[1:]
FOLLOWS = {"sending": "pg_workers"}  # asked for by name, these bring the other along (without the arguments)
chosen = []
while args and args[0] in names:
    chosen.append(names[args.pop(0)])
runs = []
for script in chosen or scripts:
    runs.append((script, args))
    follow = names.get(FOLLOWS.get(script.stem.removeprefix("bench_"), ""))
    if chosen and follow is not None and follow not in chosen:
        runs.append((follow, []))
failed = []
for script, script_args in runs:
    print(f"\n== {script.name} ==", flush=True)
    if subprocess.run([sys.executable, str(script), *script_args]).returncode:
        failed.append(script.name)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")
