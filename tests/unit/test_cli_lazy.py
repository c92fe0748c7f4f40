"""The CLI loads a command's module only when that command is used."""

from __future__ import annotations

import subprocess
import sys

from tillit.cli import main as cli


def test_stand_in_help_equals_the_commands_own() -> None:
    """The one-liners `tillit --help` shows before loading are the commands' own."""
    cli.load_all()
    for group, table in ((cli.main, cli._MAIN), (cli.estimate, cli._ESTIMATE)):
        assert set(table) <= set(group.commands)
        for name, (module, text) in table.items():
            cmd = group.commands[name]
            assert cmd.get_short_help_str(300) == text, name
            assert sys.modules[cmd.callback.__module__].__name__ == module, name
    main_names = set(cli.main.commands) - {"estimate"}
    assert main_names == set(cli._MAIN)
    assert set(cli.estimate.commands) == set(cli._ESTIMATE)


def _imported_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from tillit.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(out.stderr.split())


def test_help_imports_no_engine() -> None:
    mods = _imported_after(["--help"])
    assert "tillit.core.did" not in mods
    assert "tillit.store.db" not in mods
    assert "pandas" not in mods


def test_a_command_imports_only_its_module() -> None:
    mods = _imported_after(["estimate", "sdid", "--help"])
    assert "tillit.cli.estimate_synth" in mods
    assert "tillit.cli.estimate_did" not in mods
    assert "tillit.store.db" not in mods
