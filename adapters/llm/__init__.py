"""Chat model adapters: provider clients, the offline models and the telemetry wrapper."""
