"""The build step pyproject.toml cannot say: each gettext catalogue (sendwell/locale/*/LC_MESSAGES/messages.po) is
compiled into messages.mo next to it in the built package, so an installed sendwell loads its catalogues without
parsing them (sendwell/translations.py). The source tree holds no .mo: an editable install compiles in memory."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo  # a build requirement (pyproject.toml [build-system])
        from babel.messages.pofile import read_po

        for po in sorted(Path(self.build_lib, "sendwell", "locale").glob("*/LC_MESSAGES/messages.po")):
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as f:
                write_mo(f, catalog)  # fuzzy entries are left out, as at run time


setup(cmdclass={"build_py": BuildWithCatalogues})
