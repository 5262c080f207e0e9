# Refuses an image whose attested CycloneDX SBOM lists left-pad (cosign's conventions: Rego v0,
# the query is data.signature.allow, the input is the in-toto statement).
package signature

default allow = false

allow {
  input.predicateType == "https://cyclonedx.org/bom"
  not banned
}

banned {
  input.predicate.components[_].name == "left-pad"
}
