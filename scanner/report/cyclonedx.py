"""CycloneDX 1.6 JSON (an SBOM), through cyclonedx-python-lib (pip-audit's own).

Every package with its purl and the lock's hashes, the dependency graph, and
trustscan's conclusions as `trustscan:*` properties: score, confidence, whether it
was evaluated (and why not), provenance and the publishers verified, and each
finding. Metadata from the index is made inert before it goes in.
"""

from __future__ import annotations

from scanner.models import PackageReport, ScanResult
from scanner.text import inert


def render_cyclonedx(result: ScanResult) -> str:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.properties.add(Property(name="trustscan:verdict", value=result.verdict.label))
    bom.metadata.properties.add(Property(name="trustscan:input", value=inert(result.input, 500)))
    components: dict[str, Component] = {}
    for package in result.packages:
        evidence = result.evidence.get(package.key)
        hashes = sorted(evidence.package.sha256s()) if evidence is not None else []
        from_index = package.source.from_index and package.version is not None
        component = Component(
            name=package.name,
            version=package.version or "",
            type=ComponentType.LIBRARY,
            bom_ref=f"{package.name}@{package.version or ''}",
            purl=PackageURL(type="pypi", name=package.name, version=package.version)
            if from_index
            else None,
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=h) for h in hashes],
            properties=[Property(name=k, value=v) for k, v in _properties(package)],
        )
        components[package.key] = component
        bom.components.add(component)
    for package in result.packages:
        depends = [components[d] for d in package.dependencies if d in components]
        bom.register_dependency(components[package.key], depends)
    return make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string(indent=2)


def _properties(package: PackageReport) -> list[tuple[str, str]]:
    props = [
        ("trustscan:evaluated", str(package.evaluated).lower()),
        ("trustscan:confidence", f"{package.confidence:.2f}"),
        ("trustscan:provenance", package.publisher_state),
    ]
    if package.score is not None:
        props.append(("trustscan:score", f"{package.score:.1f}"))
    if package.not_evaluated_reason:
        props.append(("trustscan:not-evaluated", inert(package.not_evaluated_reason, 500)))
    props += [
        (
            "trustscan:publisher",
            inert(f"{p.kind} {p.repository or p.email or ''} {p.workflow or ''}", 300),
        )
        for _, p in package.publishers
    ]
    props += [
        ("trustscan:finding", inert(f"{f.severity.label} {f.signal}: {f.message}", 500))
        for f in package.findings
    ]
    return props
