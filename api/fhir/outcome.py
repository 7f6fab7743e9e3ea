"""OperationOutcome: how every FHIR error is answered, naming each problem and where it is."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """One problem: its FHIR issue type (`code`: invalid, required, code-invalid, structure, not-found, ...),
    what to do about it in words, and where (FHIRPath expressions into the request, e.g.
    "Bundle.entry[0].resource.identifier[0].value")."""

    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"


@dataclass
class FhirError(Exception):
    """A request refused with an OperationOutcome: `status` is the HTTP status."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    @classmethod
    def one(cls, status: int, code: str, diagnostics: str, *expression: str) -> "FhirError":
        return cls(status, [Issue(code, diagnostics, tuple(expression))])

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)


def operation_outcome(issues: list[Issue]) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": issue.severity,
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                # `location` is deprecated in R4 but still read by many clients: the same paths.
                **(
                    {"expression": list(issue.expression), "location": list(issue.expression)}
                    if issue.expression
                    else {}
                ),
            }
            for issue in issues
        ],
    }
