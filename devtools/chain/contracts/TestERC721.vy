# pragma version ~=0.4.3
# A minimal ERC-721 for the test chain: owner-only (batch) minting, transfers, Transfer logs.

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    tokenId: indexed(uint256)

minter: address
ownerOf_: HashMap[uint256, address]
balances: HashMap[address, uint256]
uris: HashMap[uint256, String[200]]


@deploy
def __init__():
    self.minter = msg.sender


@view
@external
def supportsInterface(interface_id: bytes4) -> bool:
    return interface_id in [0x01ffc9a7, 0x80ac58cd]


@view
@external
def balanceOf(owner: address) -> uint256:
    assert owner != empty(address)
    return self.balances[owner]


@view
@external
def ownerOf(tokenId: uint256) -> address:
    owner: address = self.ownerOf_[tokenId]
    assert owner != empty(address)
    return owner


@view
@external
def tokenURI(tokenId: uint256) -> String[200]:
    assert self.ownerOf_[tokenId] != empty(address)
    return self.uris[tokenId]


@internal
def _mint(receiver: address, tokenId: uint256):
    assert self.ownerOf_[tokenId] == empty(address)
    self.ownerOf_[tokenId] = receiver
    self.balances[receiver] += 1
    log Transfer(sender=empty(address), receiver=receiver, tokenId=tokenId)


@external
def mint(receiver: address, tokenId: uint256):
    assert msg.sender == self.minter
    self._mint(receiver, tokenId)


@external
def mintMany(receivers: DynArray[address, 500], firstId: uint256):
    assert msg.sender == self.minter
    tokenId: uint256 = firstId
    for receiver: address in receivers:
        self._mint(receiver, tokenId)
        tokenId += 1


@external
def setTokenURI(tokenId: uint256, uri: String[200]):
    assert msg.sender == self.minter
    self.uris[tokenId] = uri


@external
def transferFrom(sender: address, receiver: address, tokenId: uint256):
    assert self.ownerOf_[tokenId] == sender
    assert msg.sender == sender or msg.sender == self.minter
    assert receiver != empty(address)
    self.ownerOf_[tokenId] = receiver
    self.balances[sender] -= 1
    self.balances[receiver] += 1
    log Transfer(sender=sender, receiver=receiver, tokenId=tokenId)


@external
def burn(tokenId: uint256):
    owner: address = self.ownerOf_[tokenId]
    assert owner != empty(address)
    assert msg.sender == owner or msg.sender == self.minter
    self.ownerOf_[tokenId] = empty(address)
    self.balances[owner] -= 1
    log Transfer(sender=owner, receiver=empty(address), tokenId=tokenId)
