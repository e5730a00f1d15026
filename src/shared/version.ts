// One place for the product version shown by the CLI, the server and the collector dumps.
export const version = '0.1.0';
