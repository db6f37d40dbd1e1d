# pragma version ~=0.4.3
# A Multicall3-compatible `aggregate3` (same selector and ABI) for reads whose results fit in
# 32 bytes (balanceOf, ownerOf). Longer return data is truncated; failures are reported per call.

struct Call3:
    target: address
    allowFailure: bool
    callData: Bytes[68]

struct Result:
    success: bool
    returnData: Bytes[32]


@external
def aggregate3(calls: DynArray[Call3, 512]) -> DynArray[Result, 512]:
    results: DynArray[Result, 512] = []
    for c: Call3 in calls:
        ok: bool = False
        data: Bytes[32] = b""
        ok, data = raw_call(c.target, c.callData, max_outsize=32, is_static_call=True, revert_on_failure=False)
        assert ok or c.allowFailure, "Multicall3: call failed"
        results.append(Result(success=ok, returnData=data))
    return results
