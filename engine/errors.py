"""Errors meant for people: each names the item or setting at fault and the fix."""


class AffectLensError(Exception):
    """An error the CLI prints as one clear line (no traceback) and exits with status 2."""


class ConfigError(AffectLensError):
    pass


class DatasetError(AffectLensError):
    pass
