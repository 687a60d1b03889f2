"""No import circles between the twin's modules (grimp, as import-linter uses): every
module can be read knowing only the ones below it."""

import grimp


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    cycles, seen = [], set()
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain and frozenset(chain) not in seen:
                seen.add(frozenset(chain))
                cycles.append((module, *chain))
    return cycles


def test_the_twin_has_no_import_cycles():
    graph = grimp.build_graph("twin", cache_dir=None)
    assert "twin.simulation" in graph.modules and "twin.calibration.study" in graph.modules
    assert import_cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    assert import_cycles(graph) == [("pkg.a", "pkg.b", "pkg.a")]
