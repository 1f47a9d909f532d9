// Must NOT compile: proves the types are real (not `any`).
import { getDeployedFunction, InvocationStatus } from 'multinode';

export async function wrong(): Promise<void> {
  const task = await getDeployedFunction({ projectName: 'p', functionName: 'f' });
  const id: number = await task.start(1); // TS2322: string is not number
  const status: InvocationStatus = 'DONE'; // TS2322: not a status
  await getDeployedFunction({ project: 'p', functionName: 'f' }); // TS2353/TS2345: unknown option
  void id, status;
}
