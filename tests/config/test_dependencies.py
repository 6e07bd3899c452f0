"""What a server needs installed: time-machine and tqdm are the tools extra's (the
simulator's clock, the commands' progress bars), so serving, the jobs and the
operators' commands must start without them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_THE_TOOLS = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tqdm", "time_machine"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NotInstalled())
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.core.management import call_command
from django.urls import get_resolver
get_resolver().url_patterns  # every view and what it imports
from config import celery_app
celery_app.loader.import_default_modules()  # every app's tasks
import reconciliation.management.commands.reconcile
call_command("check")
print("served without the tools")
"""


def test_the_server_the_jobs_and_the_commands_start_without_the_tools_extra():
    started = subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_TOOLS],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ["PATH"], "LOG_FORMAT": "text"},
    )  # fmt: skip
    assert "served without the tools" in started.stdout, started.stderr[-3000:]
