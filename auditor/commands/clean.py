"""`cudaudit clean`: remove the cache of analysis results."""

from __future__ import annotations

from pathlib import Path

import typer

from cudaudit.commands.options import EXIT_CLEAN, ConfigPath, err, fail
from cudaudit.printable import markup_safe


def clean_command(config: ConfigPath = None) -> None:
    """Remove the cache of analysis results that scans keep and reuse (see docs/performance.md).

    The cache is `$CUDAUDIT_CACHE_DIR`, else the `cache-dir` of `[tool.cudaudit]`, else the user's cache folder (`~/.cache/cudaudit` on Linux). Only what cudaudit wrote there is removed.

    Exit status: 0 removed or nothing to remove, 2 the cache could not be removed.
    """
    from cudaudit.cache import Cache, CacheLocationError, cache_folder
    from cudaudit.config import ConfigError, find_config, load_config

    try:
        settings = load_config(config or find_config(Path(".")), Path.cwd())
        folder = cache_folder(settings.cache_dir, settings.root)
        removed = Cache(folder).clean()
    except (ConfigError, CacheLocationError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot remove the cache in {exc.filename}: {exc.strerror}") from None
    shown = markup_safe(str(folder))
    err.print(f"cudaudit: removed the cache in {shown}" if removed else f"cudaudit: no cache in {shown}", highlight=False)
    raise typer.Exit(EXIT_CLEAN)
