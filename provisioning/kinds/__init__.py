"""One module per resource kind, each with the interface of base.ResourceKind. The
order they run in is the registry's (provisioning/registry.py), which no kind imports."""
