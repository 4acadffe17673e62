// The samples' copies of the shared public datasets (digits, iris). Tests and benchmarks read these,
// never paths outside the repository: CI runs in a fresh clone elsewhere.
import { join } from 'node:path';

export const IRIS_CSV = join(__dirname, '..', 'examples', 'iris', 'data', 'iris.csv');
export const DIGITS_CSV = join(__dirname, '..', 'examples', 'digits', 'data', 'digits.csv');
