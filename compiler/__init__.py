"""relc compiler: parse -> resolve -> validate -> IR; targets live in relc.targets."""

__version__ = "0.1.0"
