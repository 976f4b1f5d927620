"""The application's frame: settings, extensions, sign-in hooks and guards."""
