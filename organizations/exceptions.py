class OrganizationError(Exception):
    pass


class InvalidInn(OrganizationError):
    pass


class OrganizationExists(OrganizationError):
    pass
