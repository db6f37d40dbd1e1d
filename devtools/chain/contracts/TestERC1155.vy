# pragma version ~=0.4.3
# A minimal ERC-1155 for the test chain: owner-only (batch) minting, transfers, TransferSingle logs.

event TransferSingle:
    operator: indexed(address)
    sender: indexed(address)
    receiver: indexed(address)
    id: uint256
    value: uint256

minter: address
balances: HashMap[uint256, HashMap[address, uint256]]
uri_: String[200]


@deploy
def __init__():
    self.minter = msg.sender


@view
@external
def supportsInterface(interface_id: bytes4) -> bool:
    return interface_id in [0x01ffc9a7, 0xd9b67a26]


@view
@external
def uri(id: uint256) -> String[200]:
    return self.uri_


@external
def setURI(uri: String[200]):
    assert msg.sender == self.minter
    self.uri_ = uri


@view
@external
def balanceOf(owner: address, id: uint256) -> uint256:
    return self.balances[id][owner]


@view
@external
def balanceOfBatch(owners: DynArray[address, 2000], ids: DynArray[uint256, 2000]) -> DynArray[uint256, 2000]:
    assert len(owners) == len(ids)
    result: DynArray[uint256, 2000] = []
    for i: uint256 in range(len(owners), bound=2000):
        result.append(self.balances[ids[i]][owners[i]])
    return result


@external
def mintMany(receivers: DynArray[address, 500], id: uint256, amount: uint256):
    assert msg.sender == self.minter
    for receiver: address in receivers:
        self.balances[id][receiver] += amount
        log TransferSingle(operator=msg.sender, sender=empty(address), receiver=receiver, id=id, value=amount)


@external
def safeTransferFrom(sender: address, receiver: address, id: uint256, amount: uint256, data: Bytes[1024]):
    assert msg.sender == sender or msg.sender == self.minter
    assert receiver != empty(address)
    self.balances[id][sender] -= amount
    self.balances[id][receiver] += amount
    log TransferSingle(operator=msg.sender, sender=sender, receiver=receiver, id=id, value=amount)
