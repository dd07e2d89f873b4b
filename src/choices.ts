/** The values of the flags that take a choice; shared by the CLI and the commands. */
export const INPUT_MODES = ['raw', 'lines', 'ndjson'] as const;
export type InputMode = (typeof INPUT_MODES)[number];

export const ACK_MODES = ['ack', 'requeue', 'reject', 'none'] as const;
export type AckMode = (typeof ACK_MODES)[number];

export const FORMATS = ['pretty', 'ndjson', 'body'] as const;
export type Format = (typeof FORMATS)[number];

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
