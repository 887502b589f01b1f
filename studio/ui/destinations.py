"""Settings → Destinations: where uploads go. Add AWS S3, Cloudflare R2, any S3 (MinIO, SeaweedFS...) or a
Team server (a backend that signs each part; this computer keeps only a device token), test one with
the same verdicts as `studio targets test`, edit, remove.

The widgets only collect fields: every check, save, test and removal is a ``studio.targets`` call
(studio/uploader/targets.py), run off the UI thread. Keys go to the keyring, never to the settings.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMessageBox,
                               QPushButton, QRadioButton, QVBoxLayout, QWidget)

from studio.tasks import run_in_background as _run_in_background
from studio.errors import user_message

log = logging.getLogger(__name__)


def run_in_background(owner: QWidget, fn, *args, on_done=None, on_error=None) -> None:  # noqa: ANN001
    """studio.tasks.run_in_background with this dialog's widget as the owner (answers for a closed one drop)."""
    _run_in_background(fn, *args, on_done=on_done, on_error=on_error, owner=owner)


def describe(target) -> str:  # noqa: ANN001 - targets.Target
    from studio.uploader.targets import PROVIDERS, provider_of

    if target.is_local:
        return "This computer — stored here, served on 127.0.0.1 while the app runs"
    if target.is_backend:
        return f"{target.label} — Team server · {target.backend_url}"
    where = target.endpoint_url or f"AWS {target.region}"
    return f"{target.label} — {PROVIDERS[provider_of(target)]['label']} · {target.bucket} · {where}"


class DestinationDialog(QDialog):
    """Add or edit one destination. ``saved`` carries the Target once the store accepted it."""

    saved = Signal(object)

    def __init__(self, studio, target=None, parent: QWidget | None = None):  # noqa: ANN001
        from studio.uploader.targets import PROVIDERS, provider_of

        super().__init__(parent)
        self.studio = studio
        self.editing = target
        self.setWindowTitle("Edit destination" if target else "Add a destination")
        self.setMinimumWidth(520)
        self.kind = QComboBox()
        for key, p in PROVIDERS.items():
            self.kind.addItem(p["label"], key)
        self.name = QLineEdit(placeholderText="e.g. my-bucket")
        self.endpoint = QLineEdit()
        self.region = QLineEdit()
        self.bucket = QLineEdit()
        self.path_style = QCheckBox("Path-style addressing (endpoint/bucket/key)")
        self.public_url = QLineEdit(placeholderText="optional, e.g. https://cdn.example.com")
        self.public_url.setToolTip("Where the bucket can be read publicly (a CDN, an R2 public bucket). "
                                   "Without it, links are pre-signed and expire after 7 days.")
        self.use_keyring = QRadioButton("Access key stored in the keyring")
        self.use_chain = QRadioButton("AWS credential chain (profile, environment)")
        self._creds = QButtonGroup(self)
        self._creds.addButton(self.use_keyring)
        self._creds.addButton(self.use_chain)
        self.access_key = QLineEdit()
        self.secret_key = QLineEdit(echoMode=QLineEdit.Password)
        self.profile = QLineEdit(placeholderText="default")
        self.server_url = QLineEdit(placeholderText="https://uploads.example.com")
        self.token = QLineEdit(echoMode=QLineEdit.Password, placeholderText="from the team's admin "
                                                                              "(studio backend add-device)")
        self.token_from_env = QCheckBox("Read the token from $STUDIO_BACKEND_TOKEN when uploads run")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("Kind", self.kind)
        form.addRow("Name", self.name)
        form.addRow("Server URL", self.server_url)
        form.addRow("Device token", self.token)
        form.addRow("", self.token_from_env)
        form.addRow("Endpoint", self.endpoint)
        form.addRow("Region", self.region)
        form.addRow("Bucket", self.bucket)
        form.addRow("", self.path_style)
        form.addRow("Public base URL", self.public_url)
        form.addRow("Credentials", self.use_keyring)
        form.addRow("", self.use_chain)
        form.addRow("Access key", self.access_key)
        form.addRow("Secret key", self.secret_key)
        form.addRow("AWS profile", self.profile)
        self.form = form
        self.verdict = QLabel()
        self.verdict.setObjectName("DestinationVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Write, read back and delete a small object (as `studio targets test`)")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.addButton(self.test_button, QDialogButtonBox.ActionRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.verdict)
        lay.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.use_keyring.toggled.connect(self._creds_changed)
        self.token_from_env.toggled.connect(self._creds_changed)
        self.test_button.clicked.connect(self.test)
        self.use_keyring.setChecked(True)
        if target is None:
            self._kind_changed()
        else:
            self.kind.setCurrentIndex(self.kind.findData(provider_of(target)))
            self.name.setText(target.name)
            self.name.setEnabled(False)   # queued uploads refer to it by name
            self.endpoint.setText(target.endpoint_url)
            self.region.setText(target.region)
            self.bucket.setText(target.bucket)
            self.path_style.setChecked(target.addressing_style == "path")
            self.public_url.setText(target.public_base_url or "")
            (self.use_keyring if target.credential_source == "keyring" else self.use_chain).setChecked(True)
            self.profile.setText(target.aws_profile or "")
            self.server_url.setText(target.backend_url)
            self.token_from_env.setChecked(target.credential_source == "env")
            self.token.setPlaceholderText("unchanged (stored in the keyring)")
            self.secret_key.setPlaceholderText("unchanged (stored in the keyring)")
            self.access_key.setPlaceholderText("unchanged")
        self._rows()
        self._creds_changed()

    def _kind_changed(self) -> None:
        from studio.uploader.targets import PROVIDERS

        p = PROVIDERS[self.kind.currentData()]
        self._rows()
        self.endpoint.setPlaceholderText(p["endpoint_hint"] or "empty: Amazon S3 picks it from the region")
        self.endpoint.setEnabled(p["needs_endpoint"])
        if not p["needs_endpoint"]:
            self.endpoint.clear()
        self.region.setText(p["region"]) if not self.editing else None
        self.path_style.setChecked(p["addressing_style"] == "path")

    def _rows(self) -> None:
        """A team server asks for its URL and a device token; a bucket for its endpoint and keys."""
        team = self.is_team()
        for w in (self.server_url, self.token, self.token_from_env):
            self.form.setRowVisible(w, team)
        for w in (self.endpoint, self.region, self.bucket, self.path_style, self.use_keyring, self.use_chain,
                  self.access_key, self.secret_key, self.profile):
            self.form.setRowVisible(w, not team)

    def is_team(self) -> bool:
        return self.kind.currentData() == "team"

    def _creds_changed(self) -> None:
        self.token.setEnabled(not self.token_from_env.isChecked())
        keyring = self.use_keyring.isChecked()
        self.access_key.setEnabled(keyring)
        self.secret_key.setEnabled(keyring)
        self.profile.setEnabled(not keyring)

    def target(self):  # noqa: ANN201 - targets.Target
        """The fields as a Target (checked by the store, not here)."""
        from studio.uploader.targets import Target, backend_target

        if self.is_team():
            return backend_target(self.name.text().strip(), self.server_url.text().strip(),
                                  credentials="env" if self.token_from_env.isChecked() else "keyring",
                                  bucket=self.editing.bucket if self.editing and self.editing.is_backend else "team",
                                  public_base_url=self.public_url.text().strip() or None)
        base = self.editing or Target(name="", bucket="")
        return replace(base, name=self.name.text().strip(), bucket=self.bucket.text().strip(),
                       endpoint_url=self.endpoint.text().strip(), region=self.region.text().strip() or "us-east-1",
                       addressing_style="path" if self.path_style.isChecked() else "auto",
                       public_base_url=self.public_url.text().strip() or None,
                       credential_source="keyring" if self.use_keyring.isChecked() else "aws",
                       aws_profile=(self.profile.text().strip() or None) if self.use_chain.isChecked() else None)

    def _keys(self) -> tuple[str | None, str | None]:
        if self.is_team():   # the device token travels where a key would (the store knows which it is)
            return (None if self.token_from_env.isChecked() else self.token.text().strip() or None), None
        if not self.use_keyring.isChecked():
            return None, None
        return self.access_key.text().strip() or None, self.secret_key.text() or None

    def _busy(self, busy: bool, text: str = "") -> None:
        self.test_button.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.Save).setEnabled(not busy)
        if text:
            self.verdict.setText(text)

    def test(self) -> None:
        from studio.uploader.targets import check_provider_fields

        target, provider = self.target(), self.kind.currentData()
        access, secret = self._keys()
        self._busy(True, "Testing…")
        self.verdict.setProperty("ok", None)

        def work() -> dict:
            check_provider_fields(provider, target)
            return self.studio.targets.test_unsaved(target, access_key=access, secret_key=secret)

        run_in_background(self, work, on_done=self._tested,
                          on_error=lambda e: self._tested({"ok": False, "verdict": user_message(e)}))

    def _tested(self, result: dict) -> None:
        self._busy(False)
        self.verdict.setText(("✓ " if result["ok"] else "✗ ") + result["verdict"])
        self.verdict.setProperty("ok", bool(result["ok"]))
        self.last_test = result

    last_test: dict | None = None

    def save(self) -> None:
        from studio.uploader.targets import check_provider_fields

        target, provider, editing = self.target(), self.kind.currentData(), self.editing is not None
        access, secret = self._keys()
        self._busy(True, "Saving…")

        def work():  # noqa: ANN202 - Target
            check_provider_fields(provider, target)
            store = self.studio.targets
            if target.is_backend:
                return store.add_backend(target.name, target.backend_url, token=access,
                                         credentials=target.credential_source, replace_existing=editing,
                                         public_base_url=target.public_base_url)[0]
            if editing:
                return store.update(target, access_key=access, secret_key=secret)
            return store.add(target, access_key=access, secret_key=secret)

        run_in_background(self, work, on_done=self._saved, on_error=self._save_failed)

    def _saved(self, target) -> None:  # noqa: ANN001
        self._busy(False)
        self.saved.emit(target)
        self.accept()

    def _save_failed(self, e: BaseException) -> None:
        self._busy(False, "✗ " + user_message(e))


class DestinationsPanel(QWidget):
    """The list of destinations with Add, Edit, Test and Remove."""

    changed = Signal()

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self.targets: list = []
        self.dialog: DestinationDialog | None = None
        self.confirm: QMessageBox | None = None
        self.list = QListWidget()
        self.list.setObjectName("DestinationsList")
        self.list.setTextElideMode(Qt.ElideMiddle)
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.test_button = QPushButton("Test")
        self.remove_button = QPushButton("Remove")
        self.verdict = QLabel()
        self.verdict.setObjectName("DestinationVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.test_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        note = QLabel("Where uploads go. Keys are kept in the system keyring, never in a file.")
        note.setWordWrap(True)
        note.setProperty("class", "muted")
        lay.addWidget(note)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.verdict)
        self.add_button.clicked.connect(lambda: self.open_dialog(None))
        self.edit_button.clicked.connect(lambda: self.open_dialog(self.selected()))
        self.test_button.clicked.connect(self.test_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.list.itemDoubleClicked.connect(lambda _item: self.open_dialog(self.selected()))
        self._update_buttons()
        self.reload()

    def reload(self, select: str | None = None) -> None:
        run_in_background(self, self.studio.targets.list, on_done=lambda ts: self._show(ts, select),
                          on_error=lambda e: self.verdict.setText(user_message(e)))

    def _show(self, targets: list, select: str | None) -> None:
        current = select or (self.selected().name if self.selected() else None)
        self.targets = targets
        self.list.clear()
        for t in targets:
            item = QListWidgetItem(describe(t))
            item.setData(Qt.UserRole, t.name)
            item.setToolTip(describe(t))
            self.list.addItem(item)
        names = [t.name for t in targets]
        self.list.setCurrentRow(names.index(current) if current in names else 0 if names else -1)
        self._update_buttons()

    def selected(self):  # noqa: ANN201 - targets.Target | None
        row = self.list.currentRow()
        return self.targets[row] if 0 <= row < len(self.targets) else None

    def _update_buttons(self) -> None:
        t = self.selected()
        self.test_button.setEnabled(t is not None)
        self.edit_button.setEnabled(t is not None and not t.is_local)
        self.remove_button.setEnabled(t is not None and not t.is_local)

    def open_dialog(self, target) -> DestinationDialog | None:  # noqa: ANN001
        if target is not None and target.is_local:
            return None
        self.dialog = DestinationDialog(self.studio, target, self)
        self.dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.dialog.saved.connect(lambda t: (self.verdict.setText(f"Saved {t.label}."), self.reload(t.name),
                                             self.changed.emit()))
        self.dialog.open()
        return self.dialog

    def test_selected(self) -> None:
        t = self.selected()
        if t is None:
            return
        self.test_button.setEnabled(False)
        self.verdict.setProperty("ok", None)
        self.verdict.setText(f"Testing {t.label}…")
        run_in_background(self, self.studio.targets.test, t.name, on_done=self._tested,
                          on_error=lambda e: self._tested({"ok": False, "verdict": user_message(e)}))

    def _tested(self, result: dict) -> None:
        self._update_buttons()
        self.verdict.setText(("✓ " if result["ok"] else "✗ ") + result["verdict"])
        self.verdict.setProperty("ok", bool(result["ok"]))

    def remove_selected(self) -> None:
        t = self.selected()
        if t is None or t.is_local:
            return
        self.confirm = QMessageBox(QMessageBox.Question, "Remove destination",
                                   f"Remove “{t.label}”? Its keys are deleted from the keyring. Files already "
                                   "uploaded stay in the bucket.", QMessageBox.Yes | QMessageBox.Cancel, self)
        yes = self.confirm.button(QMessageBox.Yes)
        yes.setText("Remove")
        self.confirm.setWindowModality(Qt.WindowModal)
        self.confirm.buttonClicked.connect(lambda b: self._remove(t.name) if b is yes else None)
        self.confirm.open()

    def _remove(self, name: str) -> None:
        run_in_background(self, self.studio.targets.remove, name,
                          on_done=lambda _r: (self.verdict.setText(f"Removed {name}."), self.reload(),
                                              self.changed.emit()),
                          on_error=lambda e: self.verdict.setText(user_message(e)))
