"""Look and feel: follow the operating system's light/dark scheme and display scaling.

Qt 6 follows the OS colour scheme and scales by the screen's device-pixel ratio by itself; this
module only sets what must be set before the QApplication exists (fractional scaling), names the
application, and lets views know when the scheme changes so they re-render colours.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

APP_NAME = "Enclave"


def before_application() -> None:
    """Call before creating the QApplication."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )


def apply(app: QApplication) -> None:
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("enclave")


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def force_scheme(app: QApplication, dark: bool) -> None:
    """Render in a given scheme (screenshots, tests). Uses Qt's own scheme switch, and a dark
    palette where the platform has none (the offscreen platform)."""
    hints = app.styleHints()
    hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    if is_dark(app.palette()) != dark:
        app.setPalette(dark_palette() if dark else app.style().standardPalette())


def dark_palette() -> QPalette:
    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#202124",
        role.WindowText: "#e8eaed",
        role.Base: "#17181a",
        role.AlternateBase: "#25272b",
        role.ToolTipBase: "#303134",
        role.ToolTipText: "#e8eaed",
        role.Text: "#e8eaed",
        role.Button: "#2d2e31",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ffffff",
        role.Highlight: "#3d6fb6",
        role.HighlightedText: "#ffffff",
        role.Link: "#8ab4f8",
        role.PlaceholderText: "#9aa0a6",
        role.Mid: "#3c4043",
        role.Dark: "#111214",
        role.Light: "#4a4c50",
    }
    for r, c in colours.items():
        pal.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor("#6f7378"))
    return pal
