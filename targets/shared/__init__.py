"""What several targets share: the JSON and YAML writers, and the PromQL of each kind of SLI."""
