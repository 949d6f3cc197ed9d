"""OpenAPI links between the API's operations (a drf-spectacular postprocessing hook).

drf-spectacular declares no links of its own. These say how one answer leads to the next
call, for readers of the schema and for stateful clients and fuzzers (schemathesis walks
them): a booked webhook's payer_inn to that organization's balance and statement, a bank
imitation's id to its progress.
"""

# (operation, status) -> {link name: (target operation, {parameter: runtime expression})}
LINKS = {
    ("bank_webhook_receive", "200"): {
        "PayerBalance": ("organization_balance_retrieve", {"inn": "$request.body#/payer_inn"}),
        "PayerStatement": (
            "organization_statement_retrieve",
            {"inn": "$request.body#/payer_inn"},
        ),
    },
    ("bank_imitation_create", "202"): {
        "ImitationProgress": ("bank_imitation_retrieve", {"id": "$response.body#/id"}),
    },
}


def links_add(result, generator, request, public):
    """Add LINKS to the responses of the operations the schema has."""
    operations = {
        operation["operationId"]: operation
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status), links in LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        if response is None:
            continue
        response["links"] = {
            name: {"operationId": target, "parameters": parameters}
            for name, (target, parameters) in links.items()
            if target in operations
        }
    return result
