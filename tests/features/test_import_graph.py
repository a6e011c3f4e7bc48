"""The features package's import graph (grimp): no cycle, and imports only point down LAYERS.

Pure static analysis of the source (no Spark). A cycle, also one through an import under
``TYPE_CHECKING``, or an import from a later layer fails here.
"""

from __future__ import annotations

import grimp
import pytest

from features import LAYERS

PACKAGE = "features"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE)


def cycles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Every direct import ``a -> b`` for which ``b`` also reaches ``a`` (a squashed package's
    imports among its own modules are not a cycle)."""
    return sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer) - {importer}
        if graph.chain_exists(importer=imported, imported=importer)
    )


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    assert cycles(graph) == []


def test_no_cycle_between_folders() -> None:
    """Each subpackage (``features.spec``) squashed into one node: still no cycle."""
    squashed = grimp.build_graph(PACKAGE)  # a fresh graph: squashing changes it
    subpackages = [m for m in squashed.find_children(PACKAGE) if squashed.find_children(m)]
    assert subpackages  # the check has a folder to look at
    for subpackage in subpackages:
        squashed.squash_module(subpackage)
    assert cycles(squashed) == []


def test_layers_cover_every_module(graph: grimp.ImportGraph) -> None:
    top_level = {m.split(".")[1] for m in graph.modules if m != PACKAGE}
    assert top_level == {name for layer in LAYERS for name in layer}


def test_imports_point_down_the_layers(graph: grimp.ImportGraph) -> None:
    layer_of = {name: number for number, layer in enumerate(LAYERS) for name in layer}
    upward = []
    for importer in graph.modules - {PACKAGE}:
        for imported in graph.find_modules_directly_imported_by(importer) - {PACKAGE}:
            source, target = importer.split(".")[1], imported.split(".")[1]
            if source != target and layer_of[target] >= layer_of[source]:
                upward.append(f"{importer} -> {imported}")
    assert sorted(upward) == []


def test_the_check_sees_a_cycle() -> None:
    """The helper is not vacuous: a graph with a -> b -> a has that cycle."""
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    assert cycles(graph) == [("pkg.a", "pkg.b"), ("pkg.b", "pkg.a")]
