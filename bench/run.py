"""Run every benchmark (bench_*.py) in turn; each prints its table and writes bench/results/<name>.json."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
for script in sorted(here.glob("bench_*.py")):
    print(f"\n== {script.name} ==", flush=True)
    if subprocess.run([sys.executable, str(script), *sys.argv[1:]]).returncode:
        failed.append(script.name)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")
