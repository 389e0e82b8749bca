"""polysdk: one API contract in; Go, Rust and TypeScript SDKs out."""

from pathlib import Path


def default_spec() -> Path:
    """The embedded orchestrator contract: inside the installed package, or the checkout's spec/."""
    packaged = Path(__file__).resolve().parent / "spec" / "orchestrator.yaml"
    return (
        packaged if packaged.is_file() else Path(__file__).resolve().parents[2] / "spec" / "orchestrator.yaml"
    )
