"""Run every benchmark (bench_*.py) in turn; each prints its table and writes bench/results/<name>.json.

    python bench/run.py [NAME ...] [ARGS ...]

NAMEs (e.g. `sending core`) run only bench_NAME.py; further arguments go to each script.
"""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
scripts = sorted(here.glob("bench_*.py"))
names = {s.stem.removeprefix("bench_"): s for s in scripts}
args = sys.argv[1:]
chosen = []
while args and args[0] in names:
    chosen.append(names[args.pop(0)])
failed = []
for script in chosen or scripts:
    print(f"\n== {script.name} ==", flush=True)
    if subprocess.run([sys.executable, str(script), *args]).returncode:
        failed.append(script.name)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")
