"""Config for the `jupyter lab` the browser tests start (loopback only, no network, no toasts)."""

import json
import os
import tempfile
from pathlib import Path

c = get_config()  # noqa: F821

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = int(os.environ["LAKELET_UI_PORT"])
c.ServerApp.port_retries = 0
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True  # CI runs as root
c.ServerApp.root_dir = os.environ["LAKELET_UI_ROOT"]
c.IdentityProvider.token = os.environ["LAKELET_UI_TOKEN"]
c.ServerApp.terminals_enabled = False
c.LabApp.workspaces_dir = tempfile.mkdtemp(prefix="lakelet-ui-ws-")  # no saved layout leaks in
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.news_url = None
c.LabApp.extension_manager = "readonly"  # no registry queries from the UI

# `news_url = None` does not stop the "receive official Jupyter news?" toast: pre-seed its setting.
_settings = Path(tempfile.mkdtemp(prefix="lakelet-ui-settings-"))
(_settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
(_settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
    json.dumps({"fetchNews": "false", "checkForUpdates": False})
)
c.LabApp.user_settings_dir = str(_settings)
