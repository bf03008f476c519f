"""Installed models (domain, size, quantization, licence), GGUF import with checksum progress
and the real reason when a file is refused, the hardware llama.cpp found, and GPU layers.

Listing, hardware detection and import run on worker threads; slots run on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.desktop.facade import HardwareSummary, ModelRecord, ServerRecord
from ui.list_models import model_model, record_table
from ui.workers import Task, WorkerPool

if TYPE_CHECKING:
    from ui.dialogs import Dialogs

Progress = Callable[[int, int], None]
Importer = Callable[[Path, str, Progress], ModelRecord]

DOMAINS = ("general", "clinical", "legal")


class ModelsPanel(QWidget):
    message = Signal(str)
    models_changed = Signal()
    _import_progress = Signal(int, int)  # emitted on the import worker, received on GUI thread

    def __init__(
        self,
        pool: WorkerPool,
        list_models: Callable[[], list[ModelRecord]],
        hardware: Callable[[], HardwareSummary],
        import_file: Importer,
        save_gpu_layers: Callable[[int], str],
        dialogs: Dialogs,
        parent: QWidget | None = None,
        list_servers: Callable[[], list[ServerRecord]] = list,
    ) -> None:
        super().__init__(parent)
        self._list_servers = list_servers
        self._pool = pool
        self._list_models = list_models
        self._hardware = hardware
        self._import_file = import_file
        self._save_gpu_layers = save_gpu_layers
        self._dialogs = dialogs
        self.import_task: Task | None = None
        self.model = model_model()
        self._import_progress.connect(self._on_import_progress)
        self._build()

    def _build(self) -> None:
        self.table = record_table(self.model, "Installed models", word_wrap=False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.domain = QComboBox()
        self.domain.setAccessibleName("Domain of the imported model")
        self.domain.addItems(list(DOMAINS))
        self.import_button = QPushButton("Import GGUF…")
        self.import_button.setAccessibleName("Import a GGUF model")
        self.import_button.setToolTip("Check, copy and register a GGUF model file")
        self.import_button.clicked.connect(self.choose_import)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(QLabel("for"))
        row.addWidget(self.domain)
        row.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Model import progress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setAccessibleName("Model import result")
        self.status.setWordWrap(True)

        self.hardware_box = QGroupBox("Hardware")
        self.hardware_box.setAccessibleName("Hardware")
        form = QFormLayout(self.hardware_box)
        self.backend = QLabel("Detecting…")
        self.backend.setAccessibleName("Compute back-end")
        self.cores = QLabel("")
        self.cores.setAccessibleName("Processor cores")
        self.devices = QLabel("")
        self.devices.setAccessibleName("Devices")
        self.devices.setWordWrap(True)
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setAccessibleName("GPU layers")
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("all")
        self.gpu_layers.setToolTip("Layers of the model computed on the GPU (-1: all; 0: CPU only)")
        self.save_button = QPushButton("Save")
        self.save_button.setAccessibleName("Save GPU layers")
        self.save_button.clicked.connect(self.save_gpu_layers)
        layers = QHBoxLayout()
        layers.addWidget(self.gpu_layers)
        layers.addWidget(self.save_button)
        layers.addStretch(1)
        form.addRow("Back-end:", self.backend)
        form.addRow("Cores:", self.cores)
        form.addRow("Devices:", self.devices)
        form.addRow("GPU layers:", layers)

        self.servers_box = QGroupBox("Approved inference servers")
        self.servers_box.setAccessibleName("Approved inference servers")
        self.servers = QTableWidget(0, 4)
        self.servers.setAccessibleName("Approved inference servers")
        self.servers.setHorizontalHeaderLabels(["Server", "Host", "Model", "Domains"])
        self.servers.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.servers.verticalHeader().setVisible(False)
        self.servers.horizontalHeader().setStretchLastSection(True)
        self.servers_note = QLabel("Approved by your administrator's policy; not editable here.")
        self.servers_note.setWordWrap(True)
        box = QVBoxLayout(self.servers_box)
        box.addWidget(self.servers)
        box.addWidget(self.servers_note)
        self.servers_box.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.servers_box)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.hardware_box)

    # -- loading --------------------------------------------------------------------------
    def refresh(self) -> None:
        task = self._pool.start("models", self._list_models)
        task.item.connect(self._show_models)
        task.failed.connect(self._show_error)
        servers = self._pool.start("servers", self._list_servers)
        servers.item.connect(self._show_servers)
        servers.failed.connect(self._show_error)

    def refresh_hardware(self) -> None:
        task = self._pool.start("hardware", self._hardware)
        task.item.connect(self._show_hardware)
        task.failed.connect(lambda msg: self.backend.setText(f"Not detected: {msg}"))

    def _show_models(self, models: list[ModelRecord]) -> None:
        self.model.set_items(models)
        self.models_changed.emit()

    def _show_servers(self, servers: list[ServerRecord]) -> None:  # GUI thread
        self.servers.setRowCount(len(servers))
        for row, server in enumerate(servers):
            cells = (server.label, server.destination, server.model, ", ".join(server.domains))
            for column, text in enumerate(cells):
                self.servers.setItem(row, column, QTableWidgetItem(text or "any"))
        self.servers.resizeColumnsToContents()
        self.servers_box.setVisible(bool(servers))

    def _show_hardware(self, hw: HardwareSummary) -> None:
        offload = "GPU offload available" if hw.gpu_offload_supported else "no GPU offload"
        self.backend.setText(f"{hw.backend} ({offload}) · llama.cpp {hw.llama_cpp_version}")
        self.cores.setText(
            f"{hw.physical_cores} physical, {hw.logical_cores} logical · {hw.threads} threads used"
        )
        self.devices.setText(", ".join(hw.devices) or "CPU only")
        self.gpu_layers.setValue(hw.n_gpu_layers)
        self.gpu_layers.setEnabled(hw.gpu_offload_supported)
        self.save_button.setEnabled(hw.gpu_offload_supported)
        if not hw.gpu_offload_supported:
            self.gpu_layers.setToolTip("This build of llama.cpp computes on the CPU only.")

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        self.message.emit(message)

    # -- import ---------------------------------------------------------------------------
    def choose_import(self) -> None:
        path = self._dialogs.open_model_file("Import a GGUF model")
        if path is not None:
            self.import_path(path)

    def import_path(self, path: Path) -> Task | None:
        if self.import_task is not None:
            return None
        domain = self.domain.currentText()
        importer, report = self._import_file, self._import_progress.emit
        task = self._pool.start("import-model", lambda: importer(path, domain, report))
        self.import_task = task
        self.import_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Checking %p%")
        self.status.setText(f"Importing {path.name}: checking the file and its sha256…")
        task.item.connect(self._imported)
        task.failed.connect(lambda msg: self._refused(path, msg))
        task.finished.connect(self._import_done)
        return task

    def _on_import_progress(self, done: int, total: int) -> None:  # GUI thread
        if total > 0:
            scale = max(1, total // 1_000_000)  # keep within int range of QProgressBar
            self.progress.setRange(0, total // scale)
            self.progress.setValue(done // scale)
            self.progress.setFormat(f"sha256 {done / 1e6:.0f} of {total / 1e6:.0f} MB")

    def _imported(self, record: ModelRecord) -> None:
        self.status.setText(
            f"Imported {record.id} ({record.quantization}, {', '.join(record.domains)})."
        )
        self.refresh()

    def _refused(self, path: Path, message: str) -> None:
        self.status.setText(f"{path.name} was not imported: {message}")

    def _import_done(self) -> None:
        self.import_task = None
        self.import_button.setEnabled(True)
        self.progress.setVisible(False)

    def save_gpu_layers(self) -> None:
        try:
            self.status.setText(self._save_gpu_layers(self.gpu_layers.value()))
        except (OSError, ValueError) as exc:
            self._show_error(f"The setting could not be saved: {exc}")
