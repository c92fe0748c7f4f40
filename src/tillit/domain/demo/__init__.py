"""The demo workspace: a deterministic, calibrated synthetic panel with planted pilots.

See docs/demo.md for what is planted and how the parameters were derived.
"""

from tillit.domain.demo.generator import (
    PLANTED,
    DemoWorkspace,
    demo_pilots,
    generate_demo,
    load_params,
)

__all__ = ["PLANTED", "DemoWorkspace", "demo_pilots", "generate_demo", "load_params"]
