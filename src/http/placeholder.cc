// Placeholder until the http module lands.
